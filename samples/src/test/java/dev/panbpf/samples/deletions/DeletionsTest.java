package dev.panbpf.samples.deletions;

import dev.panbpf.testing.Kernel;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Predicate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

@Timeout(60)
class DeletionsTest {
    @BeforeAll
    static void needs() {
        Kernel.requireRoot();
        Kernel.requireTracefs();
    }

    @Test
    void reportsAFileThisProcessDeletesWithItsPid() throws Exception {
        try (DeletionTracer tracer = DeletionTracer.start()) {
            Path file = Files.createTempFile("panbpf-deletions-test-", ".txt");
            Files.delete(file); // glibc unlink(), so the sys_enter_unlink tracepoint
            DeletionEvent e = await(tracer, ev -> ev.filename().equals(file.toString()))
                    .orElseThrow(() -> new AssertionError("no deletion event for " + file));
            assertEquals(ProcessHandle.current().pid(), e.pid());
            assertEquals(Optional.of(0L), Optional.of(tracer.drops().total()));
        }
    }

    @Test
    void reportsAnRmOfAnotherProcessWithThatProcesssPidAndCommand() throws Exception {
        try (DeletionTracer tracer = DeletionTracer.start()) {
            Path file = Files.createTempFile("panbpf-deletions-rm-", ".txt");
            Process rm = new ProcessBuilder("rm", file.toString()).start(); // rm calls unlinkat
            assertEquals(0, rm.waitFor());
            DeletionEvent e = await(tracer, ev -> ev.filename().equals(file.toString()))
                    .orElseThrow(() -> new AssertionError("no deletion event for " + file));
            assertEquals(rm.pid(), e.pid());
            assertEquals("rm", e.comm());
            assertTrue(!Files.exists(file));
        }
    }

    private static Optional<DeletionEvent> await(DeletionTracer tracer, Predicate<DeletionEvent> wanted) {
        List<DeletionEvent> seen = new ArrayList<>();
        long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
        while (System.nanoTime() < deadline) {
            tracer.poll(seen::add, Duration.ofMillis(100));
            Optional<DeletionEvent> hit = seen.stream().filter(wanted).findFirst();
            if (hit.isPresent()) {
                return hit;
            }
        }
        return Optional.empty();
    }
}
