package dev.panbpf.samples.printk;

import dev.panbpf.testing.Kernel;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TracePipeTest {
    private static final Path MARKER = Path.of("/sys/kernel/tracing/trace_marker");

    @Test
    @SuppressWarnings("try")
    void readsLinesWrittenIntoTheTraceBufferAndKeepsOnlyTheFilteredOnes() throws Exception {
        Kernel.requireRoot();
        Kernel.requireTracefs();
        String tag = "panbpf-test-" + UUID.randomUUID();
        List<String> seen = new CopyOnWriteArrayList<>();
        try (TracePipe pipe = TracePipe.open(l -> l.contains(tag), seen::add)) {
            for (int i = 0; i < 3; i++) {
                Files.writeString(MARKER, tag + " line " + i + "\n"); // trace_marker writes into the same buffer
            }
            long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
            while (seen.size() < 3 && System.nanoTime() < deadline) {
                Thread.sleep(10);
            }
        }
        assertEquals(3, seen.size(), seen.toString());
        for (int i = 0; i < 3; i++) {
            assertTrue(seen.get(i).endsWith(tag + " line " + i), seen.get(i));
        }
    }

    @Test
    void closeReleasesAReaderBlockedOnAnEmptyPipe() {
        Kernel.requireRoot();
        Kernel.requireTracefs();
        assertTimeoutPreemptively(Duration.ofSeconds(3), () -> {
            TracePipe pipe = TracePipe.open(l -> false, l -> { });
            Thread.sleep(100); // the reader is now inside read(2)
            pipe.close();
        });
    }
}
