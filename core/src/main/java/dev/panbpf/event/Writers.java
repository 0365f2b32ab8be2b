package dev.panbpf.event;

import dev.panbpf.event.StructShape.Field;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.lang.invoke.VarHandle;
import java.lang.reflect.RecordComponent;
import java.nio.charset.StandardCharsets;

/**
 * Writers builds, once per record type, one handle per component {@code (MemorySegment, long base, Object record)}
 * that reads the component through its accessor and stores it at its offset. The caller zeroes the struct first,
 * so padding and unused array tails are zero.
 */
final class Writers {
    private static final MethodHandles.Lookup SELF = MethodHandles.lookup();

    private Writers() { }

    /** The writers of every field of {@code shape}, in declaration order. */
    static MethodHandle[] of(StructShape shape, MethodHandles.Lookup lookup) {
        RecordComponent[] rc = shape.type().getRecordComponents();
        MethodHandle[] out = new MethodHandle[rc.length];
        for (int i = 0; i < rc.length; i++) {
            Field f = shape.fields().get(i);
            MethodHandle getter;
            try {
                getter = lookup.unreflect(rc[i].getAccessor());
            } catch (IllegalAccessException e) {
                throw Access.denied(shape.type(), e);
            }
            // (MemorySegment, long base, T value) -> (MemorySegment, long base, R record)
            MethodHandle w = MethodHandles.filterArguments(writer(f, lookup), 2, getter);
            out[i] = w.asType(MethodType.methodType(void.class, MemorySegment.class, long.class, Object.class));
        }
        return out;
    }

    /** {@code (MemorySegment, long base, T value) -> void} storing one field at its offset. */
    private static MethodHandle writer(Field f, MethodHandles.Lookup lookup) {
        Class<?> t = f.component().getType();
        String name = f.name();
        MethodHandle w = switch (f.kind()) {
            case INT -> f.widened() ? narrowed(f, t) : set(intLayout(f.width()));
            case CHAR -> set(ValueLayout.JAVA_CHAR_UNALIGNED);
            case FLOAT -> set(f.width() == 4 ? ValueLayout.JAVA_FLOAT_UNALIGNED : ValueLayout.JAVA_DOUBLE_UNALIGNED);
            case BOOL -> MethodHandles.filterArguments(set(ValueLayout.JAVA_BYTE), 2, find("bool",
                    byte.class, boolean.class));
            case ENUM -> MethodHandles.filterArguments(narrowed(f, long.class), 2,
                    find("encodeEnum", long.class, EnumTable.class, Object.class).bindTo(f.enums()));
            case STRING -> MethodHandles.insertArguments(find("writeString", void.class, int.class, String.class,
                    MemorySegment.class, long.class, String.class), 0, f.count(), name);
            case ARRAY -> MethodHandles.insertArguments(find("writeArray", void.class, int.class, String.class,
                    ValueLayout.class, MemorySegment.class, long.class, Object.class), 0, f.count(), name,
                    elementLayout(t.getComponentType()));
            case STRUCT -> nested(f, lookup);
        };
        w = w.asType(MethodType.methodType(void.class, MemorySegment.class, long.class, t));
        return f.offset() == 0 ? w : MethodHandles.filterArguments(w, 1, MethodHandles.insertArguments(
                find("add", long.class, long.class, long.class), 0, f.offset()));
    }

    /** Stores a Java value into a C integer of the field's width, refusing values that do not fit it. */
    private static MethodHandle narrowed(Field f, Class<?> from) {
        MethodType viaLong = MethodType.methodType(void.class, MemorySegment.class, long.class, long.class);
        MethodHandle store = MethodHandles.explicitCastArguments(set(intLayout(f.width())), viaLong);
        if (f.width() < 8) {
            long max = (1L << (f.width() * 8)) - 1;
            long min = f.unsigned() ? 0 : -(max >>> 1) - 1;
            MethodHandle check = MethodHandles.insertArguments(find("checkRange", long.class, String.class,
                    long.class, long.class, long.class), 0, f.name(), min, f.unsigned() ? max : max >>> 1);
            store = MethodHandles.filterArguments(store, 2, check);
        }
        return MethodHandles.explicitCastArguments(store, MethodType.methodType(void.class, MemorySegment.class,
                long.class, from));
    }

    private static MethodHandle nested(Field f, MethodHandles.Lookup lookup) {
        MethodHandle[] inner = of(f.nested(), lookup);
        return MethodHandles.insertArguments(find("writeAll", void.class, MethodHandle[].class, String.class,
                MemorySegment.class, long.class, Object.class), 0, inner, f.name());
    }

    static ValueLayout intLayout(int width) {
        return switch (width) {
            case 1 -> ValueLayout.JAVA_BYTE;
            case 2 -> ValueLayout.JAVA_SHORT_UNALIGNED;
            case 4 -> ValueLayout.JAVA_INT_UNALIGNED;
            default -> ValueLayout.JAVA_LONG_UNALIGNED;
        };
    }

    private static ValueLayout elementLayout(Class<?> e) {
        return e == byte.class || e == boolean.class ? ValueLayout.JAVA_BYTE
                : e == short.class ? ValueLayout.JAVA_SHORT_UNALIGNED
                : e == char.class ? ValueLayout.JAVA_CHAR_UNALIGNED
                : e == int.class ? ValueLayout.JAVA_INT_UNALIGNED
                : e == long.class ? ValueLayout.JAVA_LONG_UNALIGNED
                : e == float.class ? ValueLayout.JAVA_FLOAT_UNALIGNED : ValueLayout.JAVA_DOUBLE_UNALIGNED;
    }

    private static MethodHandle set(ValueLayout l) {
        VarHandle vh = l.varHandle();
        return vh.toMethodHandle(VarHandle.AccessMode.SET);
    }

    private static MethodHandle find(String name, Class<?> ret, Class<?>... params) {
        try {
            return SELF.findStatic(Writers.class, name, MethodType.methodType(ret, params));
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException(e);
        }
    }

    // ---------------------------------------------------------------------------- targets of the handles

    private static long add(long offset, long base) {
        return base + offset;
    }

    private static byte bool(boolean b) {
        return b ? (byte) 1 : 0;
    }

    private static long encodeEnum(EnumTable table, Object constant) {
        return table.encode(constant);
    }

    private static long checkRange(String field, long min, long max, long v) {
        if (v < min || v > max) {
            throw new IllegalArgumentException("record component '" + field + "' = " + v + " does not fit its C "
                    + "field (" + min + ".." + max + ")");
        }
        return v;
    }

    /** Writes a String as UTF-8 into a char array of {@code n} bytes; the zeroed rest terminates it. */
    private static void writeString(int n, String field, MemorySegment s, long off, String v) {
        if (v == null) {
            throw new NullPointerException("record component '" + field + "' is null; write \"\" for an empty "
                    + "string");
        }
        byte[] b = v.getBytes(StandardCharsets.UTF_8);
        if (b.length > n) {
            throw new IllegalArgumentException("record component '" + field + "' has " + b.length + " UTF-8 bytes;"
                    + " its C array holds " + n);
        }
        MemorySegment.copy(b, 0, s, ValueLayout.JAVA_BYTE, off, b.length);
    }

    /** Writes up to {@code n} elements of a primitive array; a shorter array leaves the zeroed tail. */
    private static void writeArray(int n, String field, ValueLayout l, MemorySegment s, long off, Object array) {
        if (array == null) {
            throw new NullPointerException("record component '" + field + "' is null; the C array needs values");
        }
        int len = switch (array) {
            case byte[] a -> a.length;
            case short[] a -> a.length;
            case char[] a -> a.length;
            case int[] a -> a.length;
            case long[] a -> a.length;
            case float[] a -> a.length;
            case double[] a -> a.length;
            case boolean[] a -> a.length;
            default -> throw new IllegalArgumentException("record component '" + field + "' is not an array");
        };
        if (len > n) {
            throw new IllegalArgumentException("record component '" + field + "' has " + len + " elements; its C "
                    + "array holds " + n);
        }
        if (array instanceof boolean[] z) {
            for (int i = 0; i < len; i++) {
                s.set(ValueLayout.JAVA_BYTE, off + i, z[i] ? (byte) 1 : 0);
            }
        } else {
            MemorySegment.copy(array, 0, s, l, off, len);
        }
    }

    /** Runs every field writer of a nested record. */
    static void writeAll(MethodHandle[] writers, String field, MemorySegment s, long base, Object record) {
        if (record == null) {
            throw new NullPointerException("record component '" + field + "' is null; a nested struct needs a "
                    + "value");
        }
        try {
            for (MethodHandle w : writers) {
                w.invokeExact(s, base, record);
            }
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable e) {
            throw new IllegalStateException(e);
        }
    }
}
