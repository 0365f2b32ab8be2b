package dev.panbpf.bpf;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;

/** BpfPrograms hands out the compiled BPF objects that live in this module's jar. */
public final class BpfPrograms {
    private BpfPrograms() { }

    /** Returns the bytes of the object {@code name} (for example {@code "producer.bpf.o"}). */
    public static byte[] bytes(String name) {
        try (InputStream in = BpfPrograms.class.getResourceAsStream(name)) {
            if (in == null) {
                throw new IllegalArgumentException("no BPF object '" + name + "' in panbpf-bpf-src; the objects are "
                        + "under bpf-src/src/main/bpf/ (built ones in dev/panbpf/bpf/ of the jar)");
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
