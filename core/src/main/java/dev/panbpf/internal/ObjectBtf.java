package dev.panbpf.internal;

import dev.panbpf.BpfObject;

import java.lang.foreign.MemorySegment;
import java.util.function.BiFunction;
import java.util.function.Function;

/**
 * ObjectBtf lets panbpf packages other than {@code dev.panbpf} read a {@link BpfObject}'s BTF without a public
 * accessor for the raw pointer: BpfObject registers the one way in when its class initialises, and the reader
 * runs under the object's lock so the BTF cannot be freed by a concurrent close.
 */
public final class ObjectBtf {
    private static volatile BiFunction<BpfObject, Function<MemorySegment, Object>, Object> access;

    private ObjectBtf() { }

    /** Called once by BpfObject. */
    public static void register(BiFunction<BpfObject, Function<MemorySegment, Object>, Object> a) {
        access = a;
    }

    /** Runs {@code reader} on the {@code struct btf *} of {@code object} (NULL when it has none). */
    @SuppressWarnings("unchecked")
    public static <T> T read(BpfObject object, Function<MemorySegment, T> reader) {
        // Having an instance means BpfObject's class initialiser, which registers, has run.
        return (T) access.apply(object, (Function<MemorySegment, Object>) reader);
    }
}
