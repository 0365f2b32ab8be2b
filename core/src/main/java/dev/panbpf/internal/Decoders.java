package dev.panbpf.internal;

import dev.panbpf.event.StructCodec;

import java.util.function.Function;

/**
 * Decoders hands the readers a codec's {@link RecordDecoder}, which {@code StructCodec} keeps private: the codec
 * class registers the accessor when it is initialized, which happens before any codec exists.
 */
public final class Decoders {
    private static volatile Function<StructCodec<?>, RecordDecoder> access;

    private Decoders() { }

    /** Called once by StructCodec's static initializer. */
    public static void register(Function<StructCodec<?>, RecordDecoder> accessor) {
        if (access != null) {
            throw new IllegalStateException("the decoder accessor is registered already");
        }
        access = accessor;
    }

    /** The decoder of {@code codec}. */
    public static RecordDecoder of(StructCodec<?> codec) {
        return access.apply(codec);
    }
}
