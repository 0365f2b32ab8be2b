package dev.panbpf.vthreads;

import dev.panbpf.ringbuf.RingBuffer;
import dev.panbpf.testing.Kernel;
import dev.panbpf.testing.Producer;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Polls on virtual threads park the virtual thread, not the carrier: 1,000 of them on one carrier (a child JVM,
 * since the scheduler's size is fixed at JVM start), and the shared poller leaves no fd behind.
 */
@Timeout(value = 300, unit = TimeUnit.SECONDS)
class VirtualThreadPollTest {
    @BeforeEach
    void root() {
        Kernel.requireRoot();
    }

    @Test
    void aThousandVirtualThreadsParkedInPollOnOneCarrierAreEachWokenByTheirOwnRecords() throws Exception {
        List<String> cmd = List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED", "-Dorg.slf4j.simpleLogger.defaultLogLevel=off",
                "-Djdk.virtualThreadScheduler.parallelism=1", "-Djdk.virtualThreadScheduler.maxPoolSize=1",
                "-cp", System.getProperty("java.class.path"), ThousandPollsProbe.class.getName());
        Path log = Files.createTempFile("thousand-polls", ".log");
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
            boolean ended = p.waitFor(120, TimeUnit.SECONDS);
            if (!ended) {
                p.destroyForcibly().waitFor();    // pinned pollers: the child would sit out their 60 s timeouts
            }
            String out = Files.readString(log);
            assertTrue(ended, "the probe hung:\n" + out);
            assertEquals(0, p.exitValue(), out);
            assertTrue(out.contains("parked and woken: 1000"), out);
        } finally {
            Files.deleteIfExists(log);
        }
    }

    @Test
    void openPollCloseCyclesOnVirtualThreadsLeaveNoFdBehind() throws Exception {
        cycle();                                    // starts the shared poller: its one epoll fd stays
        int before = Kernel.openFds();
        for (int i = 0; i < 20; i++) {
            cycle();
        }
        assertEquals(before, Kernel.openFds(), "fds back after 20 open/poll/close cycles on virtual threads");
    }

    /** Opens a ring, polls it on virtual threads (woken by a record, by a timeout, by close), and closes it. */
    private static void cycle() throws Exception {
        try (Producer p = Producer.load(4096).configure(1, 32, 0, 0)) {
            RingBuffer ring = RingBuffer.of(p.ring());
            int[] got = new int[1];
            Thread fed = Thread.ofVirtual().start(() -> got[0] = ring.poll(r -> true, Duration.ofSeconds(10)));
            awaitParked(fed);
            p.run(1);
            fed.join();
            assertEquals(1, got[0]);
            Thread.ofVirtual().start(() -> ring.poll(r -> true, Duration.ofMillis(5))).join();
            Thread closed = Thread.ofVirtual().start(() -> ring.poll(r -> true, Duration.ofSeconds(10)));
            awaitParked(closed);
            ring.close();
            assertTrue(closed.join(Duration.ofSeconds(5)), "close releases the parked poll");
        }
    }

    private static void awaitParked(Thread t) throws InterruptedException {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (t.getState() != Thread.State.WAITING && t.getState() != Thread.State.TIMED_WAITING
                && System.nanoTime() < end) {
            Thread.sleep(5);
        }
        assertTrue(t.getState() == Thread.State.TIMED_WAITING || t.getState() == Thread.State.WAITING,
                "the poll parks its virtual thread: " + t.getState());
    }
}
