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

    @Test
    void theCommandRunsUntilStoppedThenPrintsItsOwnDeletionAndTheDropCount() throws Exception {
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        dev.panbpf.samples.StopSignal stop = dev.panbpf.samples.StopSignal.manual();
        int[] status = {-1};
        Thread t = new Thread(() -> status[0] = new dev.panbpf.samples.Main().run(List.of("deletions"),
                new java.io.PrintStream(out, true, java.nio.charset.StandardCharsets.UTF_8), System.err,
                new dev.panbpf.samples.Host(), stop));
        t.start();
        Thread.sleep(1000);
        long raised = System.nanoTime();
        stop.raise(); // what Ctrl-C does through the shutdown hook
        t.join(5000);
        assertTrue(!t.isAlive(), "still running 5 s after the stop signal");
        assertTrue(System.nanoTime() - raised < Duration.ofSeconds(2).toNanos(), "slow to stop");
        String text = out.toString(java.nio.charset.StandardCharsets.UTF_8);
        assertEquals(0, status[0], text);
        assertTrue(text.matches("(?s).*pid " + ProcessHandle.current().pid() + " .*panbpf-deletions-.*"), text);
        assertTrue(text.matches("(?s).*\\d+ deletions; dropped 0 \\(no room 0, reserve failed 0, unreadable path 0\\).*"),
                text);
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
