package dev.panbpf.event;

import java.lang.reflect.RecordComponent;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * StructShape is the C layout of a record: each component placed as gcc places struct members on x86-64
 * (a scalar aligned to its own size, an array to its element, a nested struct to its widest member; the struct's
 * size rounded up to its alignment), plus the explicit padding the record declares.
 *
 * @param type    the record class
 * @param fields  the components in declaration order, with offsets
 * @param pads    the explicitly declared padding ranges ({@link Padding})
 * @param size    sizeof the struct
 * @param align   alignof the struct
 */
record StructShape(Class<?> type, List<Field> fields, List<Pad> pads, long size, long align) {

    /** Pad is a range of bytes the record declared as padding. */
    record Pad(long offset, long size) { }

    /** Derives the layout of {@code type}; the error names the component and says how to fix it. */
    static StructShape of(Class<?> type) {
        return of(type, new HashSet<>());
    }

    private static StructShape of(Class<?> type, Set<Class<?>> enclosing) {
        if (!type.isRecord()) {
            throw new IllegalArgumentException(type.getName() + " is not a record; describe a C struct as a record");
        }
        if (!enclosing.add(type)) {
            throw new IllegalArgumentException("record " + type.getName() + " contains itself; a C struct cannot");
        }
        RecordComponent[] components = type.getRecordComponents();
        if (components.length == 0) {
            throw new IllegalArgumentException("record " + type.getName() + " has no components; a C struct needs "
                    + "at least one member");
        }
        List<Field> fields = new ArrayList<>();
        List<Pad> pads = new ArrayList<>();
        long offset = 0;
        long align = 1;
        for (RecordComponent c : components) {
            Padding p = c.getAnnotation(Padding.class);
            if (p != null) {
                offset = pad(type, c.getName(), p, offset, pads);
            }
            Field f = place(type, c, enclosing);
            offset = alignUp(offset, f.align());
            fields.add(new Field(c, f.kind(), f.width(), f.count(), f.unsigned(), offset, f.nested(), f.enums()));
            offset += f.size();
            align = Math.max(align, f.align());
        }
        Padding trailing = type.getAnnotation(Padding.class);
        if (trailing != null) {
            offset = pad(type, "(end)", trailing, offset, pads);
        }
        enclosing.remove(type);
        return new StructShape(type, List.copyOf(fields), List.copyOf(pads), alignUp(offset, align), align);
    }

    private static long pad(Class<?> type, String where, Padding p, long offset, List<Pad> pads) {
        if (p.value() <= 0) {
            throw new IllegalArgumentException("record " + type.getSimpleName() + ", " + where + ": @Padding("
                    + p.value() + ") must be a positive byte count");
        }
        pads.add(new Pad(offset, p.value()));
        return offset + p.value();
    }

    /** The kind, width and count of one component (offset 0; the caller places it). */
    private static Field place(Class<?> record, RecordComponent c, Set<Class<?>> enclosing) {
        Class<?> t = c.getType();
        Size size = c.getAnnotation(Size.class);
        Unsigned u = c.getAnnotation(Unsigned.class);
        String where = "component '" + c.getName() + "' of " + record.getSimpleName();
        boolean isArray = t.isArray() || t == String.class;
        if (isArray && size == null) {
            throw new IllegalArgumentException(where + ": a " + t.getSimpleName() + " needs @Size(n) giving the "
                    + "C array length, e.g. @Size(16) for char comm[16]");
        }
        if (!isArray && size != null) {
            throw new IllegalArgumentException(where + ": @Size applies to arrays and Strings, not to "
                    + t.getSimpleName());
        }
        if (size != null && size.value() <= 0) {
            throw new IllegalArgumentException(where + ": @Size(" + size.value() + ") must be positive");
        }
        if (t == String.class) {
            noUnsigned(where, u, "a String");
            return new Field(c, Field.Kind.STRING, 1, size.value(), false, 0, null, null);
        }
        if (t.isArray()) {
            Class<?> e = t.getComponentType();
            Field.Kind k = scalarKind(e);
            if (k == null) {
                throw new IllegalArgumentException(where + ": arrays of " + e.getSimpleName() + " have no C layout"
                        + "; use an array of a primitive type");
            }
            int w = primitiveWidth(e);
            if (u != null && (k != Field.Kind.INT || (u.value() != 0 && u.value() != w))) {
                throw new IllegalArgumentException(where + ": @Unsigned on an array marks integer elements as "
                        + "unsigned without widening them; use @Unsigned with no value on an integer array");
            }
            return new Field(c, Field.Kind.ARRAY, w, size.value(), u != null || e == char.class, 0, null, null);
        }
        if (t.isRecord()) {
            noUnsigned(where, u, "a nested record");
            StructShape nested = of(t, enclosing);
            return new Field(c, Field.Kind.STRUCT, (int) nested.size(), 1, false, 0, nested, null);
        }
        if (t.isEnum()) {
            int w = u == null ? 4 : u.value() == 0 ? 4 : u.value();
            checkWidth(where, w);
            EnumTable table = EnumTable.of(t, c.getName());
            checkEnumFits(where, table, w, u != null);
            return new Field(c, Field.Kind.ENUM, w, 1, u != null, 0, null, table);
        }
        Field.Kind k = scalarKind(t);
        if (k == null) {
            throw new IllegalArgumentException(where + ": type " + t.getName() + " has no C layout; use a primitive, "
                    + "String or primitive array with @Size, an enum, or a nested record");
        }
        int w = primitiveWidth(t);
        if (u == null) {
            return new Field(c, k, w, 1, k == Field.Kind.CHAR, 0, null, null);
        }
        if (k != Field.Kind.INT) {
            noUnsigned(where, u, "a " + t.getSimpleName());
        }
        int cw = u.value() == 0 ? w : u.value();
        checkWidth(where, cw);
        if (cw > w) {
            throw new IllegalArgumentException(where + ": @Unsigned(" + cw + ") is wider than " + t.getSimpleName()
                    + "; use a Java type of at least " + cw + " bytes");
        }
        return new Field(c, Field.Kind.INT, cw, 1, true, 0, null, null);
    }

    private static void noUnsigned(String where, Unsigned u, String what) {
        if (u != null) {
            throw new IllegalArgumentException(where + ": @Unsigned applies to integers and enums, not to " + what);
        }
    }

    private static void checkWidth(String where, int w) {
        if (w != 1 && w != 2 && w != 4 && w != 8) {
            throw new IllegalArgumentException(where + ": @Unsigned(" + w + ") must be 1, 2, 4 or 8 bytes");
        }
    }

    private static void checkEnumFits(String where, EnumTable t, int w, boolean unsigned) {
        if (w == 8) {
            return;
        }
        long min = unsigned ? 0 : -(1L << (w * 8 - 1));
        long max = unsigned ? (1L << (w * 8)) - 1 : (1L << (w * 8 - 1)) - 1;
        if (t.min() < min || t.max() > max) {
            throw new IllegalArgumentException(where + ": enum values " + t.min() + ".." + t.max() + " do not fit "
                    + (unsigned ? "an unsigned " : "a signed ") + w + "-byte C integer"
                    + (unsigned ? "" : "; negative values need a signed enum, large ones @Unsigned"));
        }
    }

    private static Field.Kind scalarKind(Class<?> t) {
        if (t == byte.class || t == short.class || t == int.class || t == long.class) {
            return Field.Kind.INT;
        }
        if (t == float.class || t == double.class) {
            return Field.Kind.FLOAT;
        }
        return t == boolean.class ? Field.Kind.BOOL : t == char.class ? Field.Kind.CHAR : null;
    }

    private static int primitiveWidth(Class<?> t) {
        return t == byte.class || t == boolean.class ? 1 : t == short.class || t == char.class ? 2
                : t == int.class || t == float.class ? 4 : 8;
    }

    static long alignUp(long v, long a) {
        return (v + a - 1) / a * a;
    }

    /** Whether the bytes [offset, offset + size) lie inside declared padding. */
    boolean isPadding(long offset, long size) {
        for (Pad p : pads) {
            if (offset >= p.offset() && offset + size <= p.offset() + p.size()) {
                return true;
            }
        }
        return false;
    }

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
}
