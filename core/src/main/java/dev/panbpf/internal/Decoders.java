package dev.panbpf.internal;

import java.util.function.Function;

/**
 * Decoders hands the readers a codec's {@link RecordDecoder}, which {@code StructCodec} keeps private: the codec
 * class registers the accessor when it is initialized, which happens before any codec exists. The codec is typed
 * {@code Object} here so that the plumbing does not depend on the typed-events package built on it.
 */
public final class Decoders {
    private static volatile Function<Object, RecordDecoder> access;

    private Decoders() { }

    /** Called once by StructCodec's static initializer. */
    public static void register(Function<Object, RecordDecoder> accessor) {
        if (access != null) {
            throw new IllegalStateException("the decoder accessor is registered already");
        }
        access = accessor;
    }

    /** The decoder of {@code codec}, a {@code StructCodec}. */
    public static RecordDecoder of(Object codec) {
        return access.apply(codec);
    }
}
