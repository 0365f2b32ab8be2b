package dev.panbpf.event;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Unsigned marks a record component that holds a C unsigned integer ({@code __u8} .. {@code __u64}).
 *
 * <p>Without a value the C field is as wide as the Java type and keeps its bits: {@code @Unsigned int} is a
 * {@code __u32} that Java shows as a negative int above 2^31 ({@link Integer#toUnsignedLong} recovers it). With a
 * value the C field is that many bytes and is zero-extended into a wider Java type, so the number reads right:
 * {@code @Unsigned(4) long} is a {@code __u32}, {@code @Unsigned(1) int} is a {@code __u8}. Encoding a value that
 * does not fit the C width fails. On an enum component the value is the C width of the enum's integer.
 */
@Documented
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.RECORD_COMPONENT)
public @interface Unsigned {
    /** {@return the C width in bytes (1, 2, 4 or 8), or 0 for "as wide as the Java type"} */
    int value() default 0;
}
