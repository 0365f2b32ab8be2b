package dev.panbpf.event;

import dev.panbpf.event.StructShape.Field;
import dev.panbpf.internal.RecordDecoder;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.lang.invoke.VarHandle;
import java.lang.reflect.RecordComponent;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * Decoder builds, once per record type, one method handle {@code (MemorySegment, long base) -> record} that reads
 * every member at its offset and calls the canonical constructor: no reflection and no lookups per event, only
 * the reads, the conversions the annotations ask for and the constructor call.
 */
final class Decoder {
    private static final MethodHandles.Lookup SELF = MethodHandles.lookup();
    private static final MethodHandle ADD;
    private static final MethodHandle NOT_ZERO;
    private static final MethodHandle U8;
    private static final MethodHandle U16;
    private static final MethodHandle U32;
    private static final MethodHandle ENUM_DECODE;

    static {
        try {
            ADD = SELF.findStatic(Decoder.class, "add", MethodType.methodType(long.class, long.class, long.class));
            NOT_ZERO = SELF.findStatic(Decoder.class, "notZero", MethodType.methodType(boolean.class, byte.class));
            U8 = SELF.findStatic(Byte.class, "toUnsignedLong", MethodType.methodType(long.class, byte.class));
            U16 = SELF.findStatic(Short.class, "toUnsignedLong", MethodType.methodType(long.class, short.class));
            U32 = SELF.findStatic(Integer.class, "toUnsignedLong", MethodType.methodType(long.class, int.class));
            ENUM_DECODE = SELF.findVirtual(EnumTable.class, "decode",
                    MethodType.methodType(Object.class, long.class));
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    /** FoldedDecoder's class file: the template of every codec's hidden decoder class, read on first use. */
    private static volatile byte[] template;

    private Decoder() { }

    /**
     * A {@link RecordDecoder} that runs {@code decoder} ({@code (MemorySegment, long) -> Object}) as a JIT
     * constant, after checking that the segment holds {@code size} bytes from the offset on ({@code tooShort},
     * {@code (MemorySegment, long) -> IllegalArgumentException}, makes the error): a hidden copy of
     * {@link FoldedDecoder} with those as its class data.
     */
    static RecordDecoder folded(MethodHandle decoder, long size, MethodHandle tooShort) {
        try {
            MethodHandles.Lookup hidden = SELF.defineHiddenClassWithClassData(template(),
                    List.of(decoder, tooShort, size), true);
            return (RecordDecoder) hidden.findConstructor(hidden.lookupClass(), MethodType.methodType(void.class))
                    .invoke();
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable e) {
            throw new IllegalStateException("cannot define the decoder class of a StructCodec", e);
        }
    }

    private static byte[] template() {
        byte[] bytes = template;
        if (bytes == null) {
            try (java.io.InputStream in = Decoder.class.getResourceAsStream("FoldedDecoder.class")) {
                if (in == null) {
                    throw new IllegalStateException("FoldedDecoder.class is missing from panbpf's jar");
                }
                bytes = in.readAllBytes();
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
            template = bytes;
        }
        return bytes;
    }

    /** The handle {@code (MemorySegment, long) -> Object} that decodes {@code shape} at a base offset. */
    static MethodHandle of(StructShape shape, MethodHandles.Lookup lookup) {
        RecordComponent[] rc = shape.type().getRecordComponents();
        Class<?>[] types = new Class<?>[rc.length];
        for (int i = 0; i < rc.length; i++) {
            types[i] = rc[i].getType();
        }
        MethodHandle h;
        try {
            h = lookup.findConstructor(shape.type(), MethodType.methodType(void.class, types));
        } catch (ReflectiveOperationException e) {
            throw Access.denied(shape.type(), e);
        }
        // Replace each constructor parameter, last first so earlier indices stay put, by the reader of its
        // field: (MemorySegment, long) each; then feed every pair from the one (segment, base) pair.
        for (int i = rc.length - 1; i >= 0; i--) {
            h = MethodHandles.collectArguments(h, i, reader(shape.fields().get(i), lookup));
        }
        int[] reorder = new int[rc.length * 2];
        for (int i = 0; i < reorder.length; i++) {
            reorder[i] = i % 2;
        }
        h = MethodHandles.permuteArguments(h, MethodType.methodType(shape.type(), MemorySegment.class, long.class),
                reorder);
        return h.asType(MethodType.methodType(Object.class, MemorySegment.class, long.class));
    }

    /** {@code (MemorySegment, long base) -> component type} for one field. */
    private static MethodHandle reader(Field f, MethodHandles.Lookup lookup) {
        Class<?> t = f.component().getType();
        MethodHandle r = switch (f.kind()) {
            case INT -> integer(f.width(), f.unsigned() && f.widened(), t);
            case CHAR -> get(ValueLayout.JAVA_CHAR_UNALIGNED);
            case FLOAT -> get(f.width() == 4 ? ValueLayout.JAVA_FLOAT_UNALIGNED : ValueLayout.JAVA_DOUBLE_UNALIGNED);
            case BOOL -> MethodHandles.filterReturnValue(get(ValueLayout.JAVA_BYTE), NOT_ZERO);
            case ENUM -> MethodHandles.filterReturnValue(integer(f.width(), f.unsigned(), long.class),
                    ENUM_DECODE.bindTo(f.enums())).asType(MethodType.methodType(t, MemorySegment.class, long.class));
            case STRING -> arrayReader("string", f.count());
            case ARRAY -> arrayReader(t.getComponentType().getName(), f.count());
            case STRUCT -> of(f.nested(), lookup);
        };
        r = r.asType(MethodType.methodType(t, MemorySegment.class, long.class));
        return f.offset() == 0 ? r : MethodHandles.filterArguments(r, 1, MethodHandles.insertArguments(ADD, 0,
                f.offset()));
    }

    /** Reads a {@code width}-byte integer and converts it to {@code to}, zero-extending when unsigned. */
    static MethodHandle integer(int width, boolean zeroExtend, Class<?> to) {
        ValueLayout l = Writers.intLayout(width);
        MethodHandle r = get(l);
        if (zeroExtend && width < 8) {
            r = MethodHandles.filterReturnValue(r, width == 1 ? U8 : width == 2 ? U16 : U32);
        }
        return MethodHandles.explicitCastArguments(r, MethodType.methodType(to, MemorySegment.class, long.class));
    }

    private static MethodHandle get(ValueLayout l) {
        VarHandle vh = l.varHandle();
        return vh.toMethodHandle(VarHandle.AccessMode.GET);
    }

    private static MethodHandle arrayReader(String element, int n) {
        String name = switch (element) {
            case "string" -> "readString";
            case "byte" -> "readBytes";
            case "short" -> "readShorts";
            case "char" -> "readChars";
            case "int" -> "readInts";
            case "long" -> "readLongs";
            case "float" -> "readFloats";
            case "double" -> "readDoubles";
            default -> "readBooleans";
        };
        try {
            MethodHandle m = SELF.findStatic(Decoder.class, name, MethodType.methodType(
                    name.equals("readString") ? String.class : Object.class, int.class, MemorySegment.class,
                    long.class));
            return MethodHandles.insertArguments(m, 0, n);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException(e);
        }
    }

    // ---------------------------------------------------------------------------- targets of the handles

    private static long add(long offset, long base) {
        return base + offset;
    }

    private static boolean notZero(byte b) {
        return b != 0;
    }

    /** A C char array up to its first NUL (all of it when there is none), as UTF-8. */
    private static String readString(int n, MemorySegment s, long off) {
        int len = 0;
        while (len < n && s.get(ValueLayout.JAVA_BYTE, off + len) != 0) {
            len++;
        }
        byte[] b = new byte[len];
        MemorySegment.copy(s, ValueLayout.JAVA_BYTE, off, b, 0, len);
        return new String(b, StandardCharsets.UTF_8);
    }

    private static Object readBytes(int n, MemorySegment s, long off) {
        byte[] a = new byte[n];
        MemorySegment.copy(s, ValueLayout.JAVA_BYTE, off, a, 0, n);
        return a;
    }

    private static Object readBooleans(int n, MemorySegment s, long off) {
        boolean[] a = new boolean[n];
        for (int i = 0; i < n; i++) {
            a[i] = s.get(ValueLayout.JAVA_BYTE, off + i) != 0;
        }
        return a;
    }

    private static Object readShorts(int n, MemorySegment s, long off) {
        short[] a = new short[n];
        MemorySegment.copy(s, ValueLayout.JAVA_SHORT_UNALIGNED, off, a, 0, n);
        return a;
    }

    private static Object readChars(int n, MemorySegment s, long off) {
        char[] a = new char[n];
        MemorySegment.copy(s, ValueLayout.JAVA_CHAR_UNALIGNED, off, a, 0, n);
        return a;
    }

    private static Object readInts(int n, MemorySegment s, long off) {
        int[] a = new int[n];
        MemorySegment.copy(s, ValueLayout.JAVA_INT_UNALIGNED, off, a, 0, n);
        return a;
    }

    private static Object readLongs(int n, MemorySegment s, long off) {
        long[] a = new long[n];
        MemorySegment.copy(s, ValueLayout.JAVA_LONG_UNALIGNED, off, a, 0, n);
        return a;
    }

    private static Object readFloats(int n, MemorySegment s, long off) {
        float[] a = new float[n];
        MemorySegment.copy(s, ValueLayout.JAVA_FLOAT_UNALIGNED, off, a, 0, n);
        return a;
    }

    private static Object readDoubles(int n, MemorySegment s, long off) {
        double[] a = new double[n];
        MemorySegment.copy(s, ValueLayout.JAVA_DOUBLE_UNALIGNED, off, a, 0, n);
        return a;
    }
}
