package dev.panbpf.event;

import java.lang.reflect.RecordComponent;

/**
 * Field is one record component placed in the C layout: what kind of C value it is, how wide one element is,
 * how many elements there are and where it starts. Built by {@link StructShape#of}.
 *
 * @param component the record component
 * @param kind      what the C member holds
 * @param width     bytes of one element (the whole member for scalars; the nested struct's size for STRUCT)
 * @param count     elements of a fixed array or String, 1 otherwise
 * @param unsigned  whether the C integer is unsigned (zero-extended when the Java type is wider)
 * @param offset    byte offset of the member in its struct
 * @param nested    the nested struct's shape (STRUCT only)
 * @param enums     the value table (ENUM only)
 */
record Field(RecordComponent component, Kind kind, int width, int count, boolean unsigned, long offset,
             StructShape nested, EnumTable enums) {

    /** Kind is what C value a field holds. */
    enum Kind { INT, CHAR, BOOL, FLOAT, ENUM, STRING, ARRAY, STRUCT }

    /** Field.name is the component's name. */
    String name() {
        return component.getName();
    }

    /** Field.size is the member's size in bytes. */
    long size() {
        return (long) width * count;
    }

    /** Field.align is the member's natural alignment on x86-64 (a struct's is its widest member's). */
    long align() {
        return kind == Kind.STRUCT ? nested.align() : width;
    }

    /** Field.javaWidth is the byte width of the Java type of one element (for INT and ENUM fields). */
    int javaWidth() {
        Class<?> t = component.getType();
        if (t.isArray()) {
            t = t.getComponentType();
        }
        return t == byte.class || t == boolean.class ? 1 : t == short.class || t == char.class ? 2
                : t == int.class || t == float.class ? 4 : 8;
    }

    /** Field.widened says the C integer is narrower than its Java type and zero-extended into it. */
    boolean widened() {
        return kind == Kind.INT && width < javaWidth();
    }

    /** Field.javaType spells the Java type for messages, such as {@code @Unsigned(4) long} or {@code byte[16]}. */
    String javaType() {
        Class<?> t = component.getType();
        String u = !unsigned ? "" : widened() ? "@Unsigned(" + width + ") " : "@Unsigned ";
        return switch (kind) {
            case STRING -> "String[" + count + "]";
            case ARRAY -> u + t.getComponentType().getSimpleName() + "[" + count + "]";
            case ENUM -> t.getSimpleName() + " (" + (unsigned ? "u" : "s") + (width * 8) + ")";
            default -> u + t.getSimpleName();
        };
    }
}
