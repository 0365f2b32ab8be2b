package dev.panbpf.event;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Size gives the element count of a fixed-length C array: {@code @Size(16) String comm} is {@code char comm[16]}
 * (decoded up to the first NUL, encoded NUL-padded), {@code @Size(4) int[] args} is {@code __s32 args[4]}.
 * Array and String components must have it; the decoded array always has exactly this length.
 */
@Documented
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.RECORD_COMPONENT)
public @interface Size {
    /** {@return the number of array elements (bytes for a String)} */
    int value();
}
