package dev.panbpf.perf;

import dev.panbpf.BufferClosedException;
import dev.panbpf.perf.PerfProducer.Payload;
import dev.panbpf.testing.Kernel;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The ordered view over a real perf buffer, with the shared producer running on threads pinned to two CPUs at
 * once: one stream in kernel timestamp order, nothing missing or repeated; idle CPUs, flush, wakeup and close.
 */
class OrderedPerfBufferTest {
    private static final int SIZE = 48;

    record Got(int cpu, Payload payload, long timestamp, boolean late) { }

    private final List<Got> got = new ArrayList<>();
    private final OrderedPerfBuffer.Handler collect =
            (cpu, p, ts, late) -> got.add(new Got(cpu, Payload.of(p), ts, late));
    private PerfProducer producer;

    @BeforeAll
    static void root() {
        Kernel.requireRoot();
    }

    @BeforeEach
    void load() {
        producer = new PerfProducer();
    }

    @AfterEach
    void unload() {
        producer.close();
    }

    @Test
    void mergesProducersInterleavingOnTwoCpusIntoOneStreamThatNeverGoesBack() throws Exception {
        List<Integer> cpus = PerfProducer.twoCpus();
        int perRun = 10;
        int runs = 300;
        int total = 2 * perRun * runs;
        producer.configure(perRun, SIZE);
        ExecutorService pool = Executors.newFixedThreadPool(2);
        // A long window: lateness here could only come from a stall longer than it, not from the merge.
        try (OrderedPerfBuffer ob = OrderedPerfBuffer.of(producer.pb(),
                PerfOptions.defaults().cpus(cpus).payloadSize(SIZE), Duration.ofSeconds(2))) {
            CountDownLatch go = new CountDownLatch(1);
            List<Future<?>> producers = new ArrayList<>();
            for (int cpu : cpus) {
                producers.add(pool.submit(() -> {
                    go.await();
                    for (int r = 0; r < runs; r++) {
                        producer.run(cpu, 1);
                    }
                    return null;
                }));
            }
            go.countDown();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (got.size() < total && System.nanoTime() < deadline) {
                ob.poll(collect, Duration.ofMillis(100));
                if (producers.stream().allMatch(Future::isDone)) {
                    ob.flush(collect);
                }
            }
            for (Future<?> f : producers) {
                f.get();
            }
            assertEquals(total, got.size(), "every record delivered");
            assertEquals(0, ob.held());
            assertEquals(0, ob.lost());
            assertEquals(total, ob.delivered());

            long last = Long.MIN_VALUE;
            Set<Long> seqs = new HashSet<>();
            Map<Integer, Integer> nextCpuSeq = new HashMap<>();
            int switches = 0;
            for (int i = 0; i < got.size(); i++) {
                Got g = got.get(i);
                assertFalse(g.late(), "late at " + i);
                assertTrue(g.timestamp() >= last, "timestamp went back at " + i);
                last = g.timestamp();
                assertTrue(seqs.add(g.payload().seq()), "seq " + g.payload().seq() + " twice");
                assertEquals(g.cpu(), g.payload().cpu());
                int expected = nextCpuSeq.getOrDefault(g.cpu(), 0);
                assertEquals(expected, g.payload().cpuSeq(), "per-CPU order kept");
                nextCpuSeq.put(g.cpu(), expected + 1);
                if (i > 0 && got.get(i - 1).cpu() != g.cpu()) {
                    switches++;
                }
            }
            assertEquals(0, ob.late());
            assertEquals(total, seqs.size());
            assertTrue(switches > 1, "the two CPUs' events interleave in the output (" + switches + " switches)");
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void holdsAnEventWhileAnotherCpuIsSilentUntilTheWindowPasses() {
        List<Integer> cpus = PerfProducer.twoCpus();
        producer.configure(5, SIZE);
        try (OrderedPerfBuffer ob = OrderedPerfBuffer.of(producer.pb(),
                PerfOptions.defaults().cpus(cpus), Duration.ofMillis(500))) {
            producer.run(cpus.get(0), 1);
            assertEquals(0, ob.poll(collect, Duration.ZERO), "CPU " + cpus.get(1) + " has shown nothing yet");
            assertEquals(5, ob.held());
            assertEquals(5, ob.poll(collect, Duration.ofSeconds(10)), "released once the window passed");
            assertEquals(0, ob.held());
            // Now the other CPU shows a later stamp: the merge releases without waiting for the window.
            producer.run(cpus.get(0), 1);
            producer.run(cpus.get(1), 1);
            int n = ob.poll(collect, Duration.ZERO);
            assertTrue(n >= 5, "CPU 0's events are released by CPU 1's later stamp, got " + n);
            assertEquals(10, n + ob.held());
        }
    }

    @Test
    void closeCountsTheEventsItDropsUnlessTheyWereFlushed() {
        List<Integer> cpus = PerfProducer.twoCpus();
        producer.configure(3, SIZE);
        OrderedPerfBuffer held = OrderedPerfBuffer.of(producer.pb(), PerfOptions.defaults().cpus(cpus),
                Duration.ofHours(1));
        producer.run(cpus.get(0), 1);
        assertEquals(0, held.poll(collect, Duration.ZERO));
        assertEquals(0, held.droppedAtClose());
        held.close();
        assertEquals(3, held.droppedAtClose(), "the three held events are reported, not silently lost");
        OrderedPerfBuffer flushed = OrderedPerfBuffer.of(producer.pb(), PerfOptions.defaults().cpus(cpus),
                Duration.ofHours(1));
        producer.run(cpus.get(0), 1);
        assertEquals(0, flushed.poll(collect, Duration.ZERO));
        assertEquals(3, flushed.flush(collect));
        flushed.close();
        assertEquals(0, flushed.droppedAtClose());
    }

    @Test
    void flushReleasesEverythingHeldInOrder() {
        List<Integer> cpus = PerfProducer.twoCpus();
        producer.configure(4, SIZE);
        try (OrderedPerfBuffer ob = OrderedPerfBuffer.of(producer.pb(),
                PerfOptions.defaults().cpus(cpus), Duration.ofHours(1))) {
            producer.run(cpus.get(1), 1);
            producer.run(cpus.get(0), 1);
            producer.run(cpus.get(1), 1);
            assertEquals(8, ob.poll(collect, Duration.ZERO), "all but the newest CPU's last run");
            assertEquals(4, ob.held(), "nothing on the other CPU is newer than these yet");
            assertEquals(4, ob.flush(collect));
            assertEquals(12, got.size());
            for (int i = 1; i < got.size(); i++) {
                assertTrue(got.get(i).timestamp() >= got.get(i - 1).timestamp());
            }
            assertEquals(0, ob.held());
        }
    }

    @Test
    void wakeupAndCloseFromAnotherThreadReleaseAWaitingPollAndLeaveNothingOpen() throws Exception {
        int fds = Kernel.openFds();
        long[] perf = PerfLeaks.now();
        OrderedPerfBuffer ob = OrderedPerfBuffer.of(producer.pb(), PerfOptions.defaults());
        for (int round = 0; round < 2; round++) {
            CountDownLatch started = new CountDownLatch(1);
            CompletableFuture<Integer> polled = CompletableFuture.supplyAsync(() -> {
                started.countDown();
                return ob.poll(collect, Duration.ofMinutes(5));
            });
            started.await();
            Thread.sleep(50);
            assertFalse(polled.isDone());
            if (round == 0) {
                ob.wakeup();
            } else {
                ob.close();
            }
            assertEquals(0, polled.get(10, TimeUnit.SECONDS));
        }
        assertTrue(ob.isClosed());
        assertThrows(BufferClosedException.class, () -> ob.poll(collect, Duration.ofMillis(1)));
        assertThrows(BufferClosedException.class, () -> ob.flush(collect));
        assertEquals(fds, Kernel.openFds());
        PerfLeaks.assertBackTo(perf);
    }
}
