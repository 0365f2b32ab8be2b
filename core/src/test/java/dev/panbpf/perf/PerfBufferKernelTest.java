package dev.panbpf.perf;

import dev.panbpf.BpfException;
import dev.panbpf.BufferClosedException;
import dev.panbpf.Cpus;
import dev.panbpf.internal.Sys;
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
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/**
 * PerfBuffer fed by the shared producer program through BPF_PROG_TEST_RUN on each CPU: the records, their bytes
 * and CPUs, records that wrap a small ring, exact lost-event accounting, wakeup settings and close.
 */
class PerfBufferKernelTest {
    private static final Duration LONG = Duration.ofSeconds(10);

    private PerfProducer producer;

    record Got(int cpu, Payload payload, long timestamp, int length, boolean pattern) { }

    private final List<Got> got = new ArrayList<>();

    private PerfBuffer.Handler collect(int size) {
        return (cpu, p, ts) -> got.add(new Got(cpu, Payload.of(p), ts, (int) p.byteSize(),
                Payload.patternHolds(p, Math.min(size, (int) p.byteSize()))));
    }

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
    void deliversEveryRecordOnceWithItsBytesItsCpuAndAKernelTimestamp() {
        int size = 60;
        int perRun = 5;
        int runs = 20;
        List<Integer> cpus = Cpus.online();
        producer.configure(perRun, size);
        try (PerfBuffer pb = PerfBuffer.of(producer.pb(),
                PerfOptions.defaults().timestamps(true).payloadSize(size))) {
            for (int cpu : cpus) {
                producer.run(cpu, runs);
            }
            int total = perRun * runs * cpus.size();
            PerfBuffer.Handler keep = collect(size);
            assertEquals(total, pb.consume((cpu, p, ts) -> {
                assertTrue(p.isReadOnly(), "a view of the kernel's pages, not writable");
                return keep.onRecord(cpu, p, ts);
            }));
            assertEquals(total, got.size());
            Set<Long> seqs = new HashSet<>();
            Map<Integer, Integer> nextCpuSeq = new HashMap<>();
            for (Got g : got) {
                assertTrue(seqs.add(g.payload().seq()), "seq " + g.payload().seq() + " delivered twice");
                assertEquals(g.cpu(), g.payload().cpu(), "handed out with the CPU that wrote it");
                int expected = nextCpuSeq.getOrDefault(g.cpu(), 0);
                assertEquals(expected, g.payload().cpuSeq(), "each CPU's records in order, none missing");
                nextCpuSeq.put(g.cpu(), expected + 1);
                assertEquals(size, g.length(), "exactly the program's bytes");
                assertTrue(g.pattern(), "payload bytes of seq " + g.payload().seq());
                // The perf stamp is taken on CLOCK_MONOTONIC after the program read bpf_ktime_get_ns.
                long lag = g.timestamp() - g.payload().ts();
                assertTrue(lag >= 0 && lag < TimeUnit.SECONDS.toNanos(1), "perf stamp " + lag + " ns after");
            }
            assertEquals(total, seqs.size());
            for (int cpu : cpus) {
                assertEquals(perRun * runs, pb.delivered(cpu));
            }
            assertEquals(total, pb.delivered());
            assertEquals(0, pb.lost());
            assertEquals(total, producer.counters().perfOk());
        }
    }

    @Test
    void deliversRecordsThatWrapTheEndOfASmallRing() {
        int cpu = Cpus.online().getFirst();
        long ringBytes = Sys.PAGE_SIZE;
        int wrapped = 0;
        for (int size : new int[]{8, 13, 100, 333, 1001, 2900}) {
            got.clear();
            long recordBytes = PerfLayout.rawSizeOffset(true) + 4 + PerfLayout.rawSizeFor(size);
            int perRun = (int) Math.min(3, ringBytes / recordBytes);   // what fits between two reads
            producer.configure(perRun, size);
            try (PerfBuffer pb = PerfBuffer.of(producer.pb(), PerfOptions.defaults().pagesPerCpu(1)
                    .timestamps(true).payloadSize(size).cpus(List.of(cpu)))) {
                long position = 0;
                for (int run = 0; run < 12; run++) {
                    producer.run(cpu, 1);
                    for (int r = 0; r < perRun; r++) {
                        if (position % ringBytes + recordBytes > ringBytes) {
                            wrapped++;
                        }
                        position += recordBytes;
                    }
                    assertEquals(perRun, pb.consume(collect(size)), "size " + size + ", run " + run);
                }
                assertEquals(12 * perRun, got.size());
                for (int i = 0; i < got.size(); i++) {
                    Got g = got.get(i);
                    assertEquals(size, g.length());
                    if (size >= 24) {
                        assertEquals(i, g.payload().cpuSeq() - got.getFirst().payload().cpuSeq(), "in order");
                    }
                    assertTrue(g.pattern(), "bytes of record " + i + " of size " + size);
                }
                assertEquals(0, pb.lost());
            }
        }
        assertTrue(wrapped >= 6, "the sizes made " + wrapped + " records cross the ring's end");
    }

    @Test
    void deliversThePaddedRawAreaUnlessThePayloadSizeIsDeclared() {
        int cpu = Cpus.online().getFirst();
        int size = 29;   // raw size roundUp(29 + 4, 8) - 4 = 36: 7 bytes of padding
        producer.configure(2, size);
        try (PerfBuffer pb = PerfBuffer.of(producer.pb(), PerfOptions.defaults().cpus(List.of(cpu)))) {
            producer.run(cpu, 1);
            pb.consume(collect(size));
            assertEquals(List.of(36, 36), got.stream().map(Got::length).toList());
            assertTrue(got.stream().allMatch(Got::pattern), "the first 29 bytes are the program's");
        }
        got.clear();
        try (PerfBuffer pb = PerfBuffer.of(producer.pb(),
                PerfOptions.defaults().cpus(List.of(cpu)).payloadLength(raw -> size))) {
            producer.run(cpu, 1);
            pb.consume(collect(size));
            assertEquals(List.of(29, 29), got.stream().map(Got::length).toList());
        }
    }

    @Test
    void aFullRingWithoutConsumerAccountsForEveryEventAsDeliveredOrLost() {
        int cpu = Cpus.online().getLast();
        int size = 200;   // 8 + 4 + 204 = 216 bytes a record: 18 fit in one page
        List<long[]> reported = new ArrayList<>();
        producer.configure(1, size);
        try (PerfBuffer pb = PerfBuffer.of(producer.pb(), PerfOptions.defaults().pagesPerCpu(1)
                .cpus(List.of(cpu)).payloadSize(size).onLost((c, n) -> reported.add(new long[]{c, n})))) {
            producer.run(cpu, 100);
            long failed = producer.counters().perfFailed();
            assertTrue(failed > 0, "the ring overflowed");
            int first = pb.consume(collect(size));
            assertEquals(producer.counters().perfOk(), first);
            // The kernel writes its LOST record at the next output that finds room.
            producer.run(cpu, 1);
            pb.consume(collect(size));
            long produced = producer.counters().seq();
            assertEquals(101, produced);
            assertEquals(produced, pb.delivered() + pb.lost(), "delivered + lost == produced, exactly");
            assertEquals(failed, pb.lost(cpu));
            assertEquals(producer.counters().perfOk(), pb.delivered(cpu));
            assertEquals(1, reported.size());
            assertArrayEquals(new long[]{cpu, failed}, reported.getFirst());
            assertTrue(got.stream().allMatch(Got::pattern));
            assertEquals(got.size(), new HashSet<>(got.stream().map(g -> g.payload().seq()).toList()).size());
        }
    }

    @Test
    void withWakeupEveryNEventsPollWakesAtTheNthWhileConsumeDrainsFewer() {
        int cpu = Cpus.online().getFirst();
        int n = 8;
        producer.configure(1, 32);
        try (PerfBuffer pb = PerfBuffer.of(producer.pb(),
                PerfOptions.defaults().wakeupEvents(n).cpus(List.of(cpu)))) {
            producer.run(cpu, n - 1);
            assertEquals(0, pb.poll(collect(32), Duration.ofMillis(150)), "no wakeup before the Nth");
            producer.run(cpu, 1);
            assertEquals(n, pb.poll(collect(32), LONG), "woken at the Nth, reading all N");
            producer.run(cpu, n - 1);
            assertEquals(n - 1, pb.consume(cpu, collect(32)), "consume reads what is there without a wakeup");
            assertEquals(0, pb.poll(collect(32), Duration.ofMillis(100)));
            producer.run(cpu, 1);
            assertEquals(1, pb.poll(collect(32), LONG), "the kernel counts events since the last wakeup");
            assertEquals(2 * n, got.size());
        }
    }

    @Test
    void withAByteWatermarkPollWakesOnceThatManyBytesWait() {
        int cpu = Cpus.online().getFirst();
        producer.configure(1, 28);   // 8 + 4 + 28 = 40 bytes a record
        try (PerfBuffer pb = PerfBuffer.of(producer.pb(),
                PerfOptions.defaults().wakeupBytes(1024).cpus(List.of(cpu)))) {
            producer.run(cpu, 10);
            assertEquals(0, pb.poll(collect(28), Duration.ofMillis(150)), "400 bytes are below the watermark");
            producer.run(cpu, 30);
            assertEquals(40, pb.poll(collect(28), LONG));
        }
    }

    @Test
    void aBlockedPollWakesWhenARecordArrives() throws Exception {
        int cpu = Cpus.online().getFirst();
        producer.configure(1, 24);
        try (PerfBuffer pb = PerfBuffer.of(producer.pb(), PerfOptions.defaults())) {
            CountDownLatch started = new CountDownLatch(1);
            CompletableFuture<Integer> polled = CompletableFuture.supplyAsync(() -> {
                started.countDown();
                return pb.poll(collect(24), Duration.ofMinutes(5));
            });
            started.await();
            Thread.sleep(50);
            producer.run(cpu, 1);
            assertEquals(1, polled.get(10, TimeUnit.SECONDS));
        }
    }

    @Test
    void closeWithRecordsPendingLeavesNoFdMappingOrMapEntry() {
        int cpu = Cpus.online().getFirst();
        producer.configure(4, 64);
        int fds = Kernel.openFds();
        long[] perf = PerfLeaks.now();
        PerfBuffer pb = PerfBuffer.of(producer.pb(), PerfOptions.defaults());
        producer.run(cpu, 3);
        assertEquals(12, producer.counters().perfOk());
        pb.close();
        assertEquals(fds, Kernel.openFds());
        PerfLeaks.assertBackTo(perf);
        producer.run(cpu, 1);
        assertEquals(4, producer.counters().perfFailed(), "the program finds no event any more");
        assertThrows(BufferClosedException.class, () -> pb.consume((c, p, t) -> fail("closed")));
    }

    @Test
    void closingTheObjectFirstStillLetsTheBufferCloseCleanly() {
        int cpu = Cpus.online().getFirst();
        producer.configure(1, 16);
        long[] perf = PerfLeaks.now();
        PerfBuffer pb = PerfBuffer.of(producer.pb(), PerfOptions.defaults());
        producer.run(cpu, 1);
        producer.close();
        assertEquals(1, pb.consume(collect(16)), "the rings outlive the map");
        pb.close();
        PerfLeaks.assertBackTo(perf);
        producer = new PerfProducer();   // for @AfterEach
    }

    @Test
    void refusesToCountAPayloadWhoseSizeDisagreesWithTheDeclaredOne() {
        int cpu = Cpus.online().getFirst();
        producer.configure(1, 100);
        try (PerfBuffer pb = PerfBuffer.of(producer.pb(),
                PerfOptions.defaults().payloadSize(64).cpus(List.of(cpu)))) {
            producer.run(cpu, 1);
            BpfException e = assertThrows(BpfException.class, () -> pb.consume(collect(64)));
            assertTrue(e.getMessage().contains("CPU " + cpu) && e.getMessage().contains("payloadSize option says 64"),
                    e.getMessage());
            assertEquals(0, pb.delivered(), "a sample skipped as wrong is not counted as delivered");
        }
    }
}
