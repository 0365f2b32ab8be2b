package dev.panbpf.internal;

import java.lang.foreign.MemorySegment;

/**
 * RecordDecoder is one {@code StructCodec}'s decoding as a class of its own (a hidden class per codec), so that the
 * typed reader views can call it from a call site that sees one codec and let the JIT inline the whole decode; a
 * call through {@code StructCodec.decode} shares one call site among every codec in the process. Get one with
 * {@link Decoders#of}.
 */
public interface RecordDecoder {
    /**
     * The record decoded from the struct at {@code offset} in {@code segment}; throws IllegalArgumentException when
     * the segment is too short.
     */
    Object decode(MemorySegment segment, long offset);
}
