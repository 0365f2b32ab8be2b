package dev.panbpf.perf;

import dev.panbpf.BpfException;
import dev.panbpf.BpfMap;
import dev.panbpf.BufferClosedException;
import dev.panbpf.Cpus;
import dev.panbpf.MapType;
import dev.panbpf.testing.Kernel;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/**
 * PerfBuffer against the real kernel without any BPF program: the per-CPU events, mappings and map entries it
 * sets up and takes down, the options it refuses, and waking or closing a blocked poll from another thread.
 */
class PerfBufferSetupTest {
    private static final PerfBuffer.Handler NONE = (cpu, p, t) -> fail("no program runs, so no record can arrive");

    @BeforeAll
    static void root() {
        Kernel.requireRoot();
    }

    static BpfMap perfMap() {
        return BpfMap.create(MapType.PERF_EVENT_ARRAY, 4, 4, Cpus.possible().size(), 0, "pb");
    }

    @Test
    void opensOneEventAndMappingPerOnlineCpuAndLeavesNothingAfterClose() {
        try (BpfMap map = perfMap()) {
            int fds = Kernel.openFds();
            long[] perf = PerfLeaks.now();
            int cpus = Cpus.online().size();
            PerfBuffer pb = PerfBuffer.of(map, PerfOptions.defaults().pagesPerCpu(4));
            assertEquals(Cpus.online(), pb.cpus());
            // one perf event per CPU, plus the epoll and its wakeup eventfd
            assertEquals(fds + cpus + 2, Kernel.openFds());
            assertEquals(perf[0] + cpus, PerfLeaks.fds(), "an event per CPU");
            assertEquals(perf[1] + cpus, PerfLeaks.mappings(), "each CPU's ring is mapped");
            pb.close();
            assertEquals(fds, Kernel.openFds());
            PerfLeaks.assertBackTo(perf);
            pb.close();   // twice is harmless
            assertTrue(pb.isClosed());
            assertThrows(BufferClosedException.class, () -> pb.poll(NONE, Duration.ofMillis(1)),
                    "a closed buffer says so rather than read nothing");
            assertThrows(BufferClosedException.class, () -> pb.consume(NONE));
        }
    }

    @Test
    void storesEachEventInTheMapAtItsCpuAndRemovesItOnClose() {
        try (BpfMap map = perfMap()) {
            int cpu = Cpus.online().getLast();
            try (PerfBuffer pb = PerfBuffer.of(map, PerfOptions.defaults().cpus(List.of(cpu)))) {
                assertEquals(List.of(cpu), pb.cpus());
            }
            try (PerfBuffer pb = PerfBuffer.of(map, PerfOptions.defaults().cpus(List.of(cpu)))) {
                assertTrue(map.delete(cpu), "the event's fd was stored at key = CPU");
            }
            PerfBuffer pb = PerfBuffer.of(map, PerfOptions.defaults().cpus(List.of(cpu)));
            pb.close();
            assertFalse(map.delete(cpu), "close removed the entry");
        }
    }

    @Test
    void refusesPageCountsThatAreNotPowersOfTwo() {
        for (int bad : new int[]{0, 3, 6, 100, -8}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> PerfOptions.defaults().pagesPerCpu(bad));
            assertTrue(e.getMessage().contains("not a power of two") && e.getMessage().contains("pagesPerCpu " + bad),
                    e.getMessage());
        }
        assertEquals(16, PerfOptions.defaults().pagesPerCpu(16).pagesPerCpu());
    }

    @Test
    void bytesPerCpuRoundsUpToAPowerOfTwoNumberOfPages() {
        long page = Cpus.pageSize();
        long[][] cases = {{1, 1}, {page, 1}, {page + 1, 2}, {3 * page, 4}, {4 * page, 4}, {4 * page + 1, 8},
                {100 * 1024, Long.highestOneBit((100 * 1024 - 1) / page) * 2}, {1L << 30, (1L << 30) / page}};
        for (long[] c : cases) {
            PerfOptions o = PerfOptions.defaults().bytesPerCpu(c[0]);
            assertEquals(c[1], o.pagesPerCpu(), c[0] + " bytes");
            assertEquals(c[1] * page, o.bytesPerCpu());
        }
        for (long bad : new long[]{0, -1, Long.MIN_VALUE, Long.MAX_VALUE}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> PerfOptions.defaults().bytesPerCpu(bad));
            assertTrue(e.getMessage().contains("bytesPerCpu") && e.getMessage().contains(String.valueOf(bad)),
                    e.getMessage());
        }
        try (BpfMap map = perfMap()) {
            int cpu = Cpus.online().getFirst();
            long before = PerfLeaks.mappedBytes();
            try (PerfBuffer pb = PerfBuffer.of(map, PerfOptions.defaults().cpus(List.of(cpu)).bytesPerCpu(page + 1)
                    .wakeupBytes((int) (2 * page)))) {
                assertEquals(before + 3 * page, PerfLeaks.mappedBytes(), "a metadata page and two data pages");
            }
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> PerfBuffer.of(map,
                    PerfOptions.defaults().bytesPerCpu(page + 1).wakeupBytes((int) (2 * page + 1))));
            assertTrue(e.getMessage().contains("exceeds the " + 2 * page + "-byte ring"), e.getMessage());
        }
    }

    @Test
    void refusesMapsThatAreNotPerfEventArraysAndCpusTheMapCannotHold() {
        int fds = Kernel.openFds();
        try (BpfMap ring = BpfMap.create(MapType.RINGBUF, 0, 0, 4096, 0, "rb")) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> PerfBuffer.of(ring, PerfOptions.defaults()));
            assertTrue(e.getMessage().contains("PERF_EVENT_ARRAY") && e.getMessage().contains("RingBuffer"),
                    e.getMessage());
        }
        int last = Cpus.online().getLast();
        Kernel.require(last > 0, "a second online CPU");
        try (BpfMap small = BpfMap.create(MapType.PERF_EVENT_ARRAY, 4, 4, 1, 0, "pb1")) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> PerfBuffer.of(small, PerfOptions.defaults()));
            assertTrue(e.getMessage().contains("CPU " + last + " needs key " + last), e.getMessage());
        }
        assertEquals(fds, Kernel.openFds(), "a refused buffer leaks nothing");
    }

    @Test
    void skipsOfflineCpusAndRefusesWhenNoneIsLeft() {
        try (BpfMap map = perfMap()) {
            int offline = 4096;  // no machine here has that CPU online
            try (PerfBuffer pb = PerfBuffer.of(map, PerfOptions.defaults().cpus(List.of(0, offline)))) {
                assertEquals(List.of(0), pb.cpus());
            }
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> PerfBuffer.of(map, PerfOptions.defaults().cpus(List.of(offline))));
            assertTrue(e.getMessage().contains("is online"), e.getMessage());
        }
    }

    @Test
    void refusesAWakeupWatermarkLargerThanTheRing() {
        try (BpfMap map = perfMap()) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> PerfBuffer.of(map,
                    PerfOptions.defaults().pagesPerCpu(1).wakeupBytes(1 << 20)));
            assertTrue(e.getMessage().contains("wakeupBytes"), e.getMessage());
        }
    }

    @Test
    void pollReturnsZeroWhenTheTimeoutPasses() {
        try (BpfMap map = perfMap(); PerfBuffer pb = PerfBuffer.of(map, PerfOptions.defaults())) {
            long t0 = System.nanoTime();
            assertEquals(0, pb.poll(NONE, Duration.ofMillis(50)));
            assertTrue(System.nanoTime() - t0 >= TimeUnit.MILLISECONDS.toNanos(45), "poll waited for its timeout");
            assertEquals(0, pb.poll(NONE, Duration.ZERO));
            assertThrows(IllegalArgumentException.class, () -> pb.poll(NONE, Duration.ofMillis(-1)));
        }
    }

    @Test
    void wakeupFromAnotherThreadReleasesABlockedPoll() throws Exception {
        try (BpfMap map = perfMap(); PerfBuffer pb = PerfBuffer.of(map, PerfOptions.defaults())) {
            CountDownLatch started = new CountDownLatch(1);
            CompletableFuture<Integer> polled = CompletableFuture.supplyAsync(() -> {
                started.countDown();
                return pb.poll(NONE, Duration.ofMinutes(5));
            });
            started.await();
            Thread.sleep(50);
            assertFalse(polled.isDone(), "poll is blocked");
            pb.wakeup();
            assertEquals(0, polled.get(10, TimeUnit.SECONDS));
            assertFalse(pb.isClosed());
        }
    }

    @Test
    void closeFromAnotherThreadReleasesABlockedPollAndEverythingItHeld() throws Exception {
        try (BpfMap map = perfMap()) {
            int fds = Kernel.openFds();
            long[] perf = PerfLeaks.now();
            PerfBuffer pb = PerfBuffer.of(map, PerfOptions.defaults());
            CountDownLatch started = new CountDownLatch(1);
            CompletableFuture<Integer> polled = CompletableFuture.supplyAsync(() -> {
                started.countDown();
                return pb.poll(NONE, Duration.ofMinutes(5));
            });
            started.await();
            Thread.sleep(50);
            pb.close();
            assertEquals(0, polled.get(10, TimeUnit.SECONDS));
            assertEquals(fds, Kernel.openFds());
            PerfLeaks.assertBackTo(perf);
            for (int cpu : Cpus.online()) {
                assertFalse(map.delete(cpu), "entry of CPU " + cpu + " removed");
            }
        }
    }

    @Test
    void aSecondConsumerIsRefusedWhileOneWaits() throws Exception {
        try (BpfMap map = perfMap(); PerfBuffer pb = PerfBuffer.of(map, PerfOptions.defaults())) {
            CountDownLatch started = new CountDownLatch(1);
            CompletableFuture<Integer> polled = CompletableFuture.supplyAsync(() -> {
                started.countDown();
                return pb.poll(NONE, Duration.ofMinutes(5));
            });
            started.await();
            Thread.sleep(50);
            BpfException e = assertThrows(BpfException.class, () -> pb.consume(NONE));
            assertTrue(e.getMessage().contains("already has a consumer"), e.getMessage());
            pb.wakeup();
            polled.get(10, TimeUnit.SECONDS);
        }
    }

    @Test
    void countersStartAtZeroAndNameTheCpusTheyCover() {
        try (BpfMap map = perfMap(); PerfBuffer pb = PerfBuffer.of(map, PerfOptions.defaults())) {
            assertEquals(0, pb.delivered());
            assertEquals(0, pb.lost());
            assertEquals(0, pb.delivered(0));
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> pb.lost(4096));
            assertTrue(e.getMessage().contains("does not read CPU 4096"), e.getMessage());
        }
    }
}
