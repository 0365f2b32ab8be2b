package dev.panbpf.event;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Padding declares bytes that Java deliberately does not read: on a record component, that many bytes come
 * before it (after the previous component, before alignment); on the record itself, that many bytes follow the
 * last component. Use it for a C {@code __u8 reserved[4]} or {@code __u32 pad} member you do not want as a
 * component: BTF verification accepts C members that lie wholly inside declared padding. Encoding writes zeros.
 */
@Documented
@Retention(RetentionPolicy.RUNTIME)
@Target({ElementType.RECORD_COMPONENT, ElementType.TYPE})
public @interface Padding {
    /** {@return the number of padding bytes} */
    int value();
}
