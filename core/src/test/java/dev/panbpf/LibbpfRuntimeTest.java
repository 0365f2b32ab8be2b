package dev.panbpf;

import dev.panbpf.internal.Libbpf;
import dev.panbpf.internal.LibbpfLog;
import dev.panbpf.testing.Kernel;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** The libbpf found at run time is accepted, and its messages come to Java through the print callback. */
class LibbpfRuntimeTest {
    @Test
    void runtimeLibbpfIsVersionOneOrNewer() {
        Libbpf.require();
        assertTrue(Libbpf.version().matches("v[1-9][0-9]*\\.[0-9]+.*"), Libbpf.version());
    }

    @Test
    void libbpfMessagesArriveFormattedOnTheCallingThread() {
        Kernel.requireRoot();
        List<String> messages;
        try (BpfObject obj = BpfObject.openResource("dev/panbpf/bpf/bad_verifier.bpf.o");
             LibbpfLog.Capture capture = LibbpfLog.capture()) {
            assertThrows(BpfVerifierException.class, obj::load);
            messages = capture.messages();
        }
        // libbpf's printf arguments were formatted by vsnprintf: the program name filled in its "%s".
        assertTrue(messages.stream().anyMatch(m -> m.startsWith("prog 'reads_past_packet': BPF program load failed")),
                messages.toString());
    }
}
