package dev.panbpf.event;

import dev.panbpf.internal.RecordDecoder;

import java.lang.constant.ConstantDescs;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;

/**
 * FoldedDecoder is the template of the class that runs one record type's decoding handle as a constant the JIT can
 * inline. Called through a field, as in {@code decoder.invokeExact(...)}, a handle is opaque to the JIT: every
 * event pays an out-of-line call through the handle's lambda forms and keeps a record allocation the JIT cannot
 * remove. So {@link Decoder#folded} defines a copy of this class's bytes per codec as a hidden class whose class
 * data is the codec's handles and size: the static finals below then hold them, and a static final is a constant
 * to the JIT, which inlines the reads and the constructor call into whoever calls {@link #decode}.
 *
 * <p>This class itself is never initialized or instantiated; only its hidden copies are.
 */
final class FoldedDecoder implements RecordDecoder {
    /** {@code (MemorySegment, long) -> Object}: the reads and the constructor call. */
    private static final MethodHandle DECODE = classData(0, MethodHandle.class);
    /** {@code (MemorySegment, long) -> IllegalArgumentException}: the error for a segment too short. */
    private static final MethodHandle TOO_SHORT = classData(1, MethodHandle.class);
    /** The struct's size in bytes. */
    private static final long SIZE = classData(2, Long.class);

    private FoldedDecoder() { }

    @Override
    public Object decode(MemorySegment segment, long offset) {
        try {
            if (offset < 0 || segment.byteSize() - offset < SIZE) {
                throw (IllegalArgumentException) TOO_SHORT.invokeExact(segment, offset);
            }
            return DECODE.invokeExact(segment, offset);
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable e) {
            throw new IllegalStateException(e);
        }
    }

    private static <T> T classData(int index, Class<T> type) {
        try {
            return MethodHandles.classDataAt(MethodHandles.lookup(), ConstantDescs.DEFAULT_NAME, type, index);
        } catch (IllegalAccessException e) {
            throw new ExceptionInInitializerError(e);
        }
    }
}
