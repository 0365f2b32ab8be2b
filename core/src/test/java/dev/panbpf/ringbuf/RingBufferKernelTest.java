package dev.panbpf.ringbuf;

import dev.panbpf.Cpus;
import dev.panbpf.testing.BlockedCall;
import dev.panbpf.testing.Kernel;
import dev.panbpf.testing.Producer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.lang.foreign.ValueLayout;
import java.time.Duration;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.*;

/**
 * RingBuffer against records from the real kernel: the bpf-src producer run by BPF_PROG_TEST_RUN reserves, fills
 * and submits (or discards) records in the program's ring, and the tests read them back.
 */
class RingBufferKernelTest {
    private static final int SMALL = 4 * 4096;

    @BeforeAll
    static void root() {
        Kernel.requireRoot();
    }

    @Test
    void deliversEveryRecordOnceInOrderWithItsBytesAlsoWhenRecordsWrapTheEnd() {
        try (Producer producer = Producer.load(SMALL); RingBuffer ring = RingBuffer.of(producer.ring())) {
            long expectedSeq = 0;
            long position = 0;
            for (int size : new int[]{8, 24, 25, 100, 1000, 4000, 8192 - 8}) {
                long stride = RingLayout.stride(size);
                int perRound = (int) ((SMALL - 1) / stride);     // what the kernel lets into an empty ring
                producer.configure(perRound, size, 0, 0);
                int wrapped = 0;
                for (int round = 0; round < 6; round++) {
                    producer.run(1);
                    long[] next = {expectedSeq};
                    int n = ring.consume(r -> {
                        assertEquals(next[0]++, producer.check(r), "in order, none lost or repeated");
                        return true;
                    });
                    assertEquals(perRound, n);
                    for (int i = 0; i < perRound; i++, position += stride) {
                        if ((position & (SMALL - 1)) + stride > SMALL) {
                            wrapped++;                              // this one ran past the end of the data area
                        }
                    }
                    expectedSeq = next[0];
                }
                if (SMALL % stride != 0) {
                    assertTrue(wrapped > 0, "size " + size + ": some record should have wrapped the end");
                }
                assertEquals(0, producer.ringFailed(), "the ring never overflowed");
            }
            assertEquals(expectedSeq, ring.delivered());
            assertEquals(producer.ringOk(), ring.delivered());
            assertEquals(position, ring.consumerPosition());
            assertEquals(0, ring.availableBytes());
        }
    }

    @Test
    void aRecordsSpaceIsGivenBackWithin64RecordsAndAtTheEndOfThePassButNeverBeforeItsHandler() {
        try (Producer producer = Producer.load(0); RingBuffer ring = RingBuffer.of(producer.ring())) {
            int records = 300;
            producer.configure(records, 24, 0, 0).run(1);
            long start = ring.consumerPosition();
            List<Long> seen = new ArrayList<>();
            assertEquals(records, ring.consume(r -> seen.add(ring.consumerPosition())));
            // 24-byte payloads take 32 bytes with their header. While handler k runs, the records before it may
            // be given back, at the latest 64 records later; record k itself may not (its handler reads it).
            for (int k = 0; k < records; k++) {
                long givenBack = (seen.get(k) - start) / 32;
                assertTrue(givenBack <= k, "record " + k + " was given back before its handler returned");
                assertTrue(givenBack >= k - RingReader.RETURN_EVERY + 1, "while handler " + k + " ran only "
                        + givenBack + " records were given back");
            }
            assertEquals(start + 32L * records, ring.consumerPosition(), "all of it at the end of the pass");
        }
    }

    @Test
    void skipsAndCountsTheRecordsTheProgramDiscards() {
        try (Producer producer = Producer.load(0); RingBuffer ring = RingBuffer.of(producer.ring())) {
            producer.configure(300, 40, 3, 0).run(1);
            List<Long> seqs = new ArrayList<>();
            assertEquals(200, ring.consume(r -> seqs.add(producer.check(r))));
            for (long s : seqs) {
                assertNotEquals(2, s % 3, "record " + s + " was discarded by the program");
            }
            assertEquals(100, ring.discarded());
            assertEquals(producer.ringDiscarded(), ring.discarded());
            assertEquals(200, ring.delivered());
        }
    }

    @Test
    void aFullRingMakesTheProgramsReserveFailAndThatCountIsVisible() {
        try (Producer producer = Producer.load(SMALL); RingBuffer ring = RingBuffer.of(producer.ring())) {
            producer.configure(1000, 100, 0, 0).run(1);
            long ok = producer.ringOk();
            assertEquals((SMALL - 1) / RingLayout.stride(100), ok, "the kernel keeps one byte short of full");
            assertEquals(1000 - ok, producer.ringFailed());
            long[] next = {0};
            assertEquals(ok, ring.consume(r -> producer.check(r) == next[0]++));
            assertEquals(ok, next[0], "the records that made it are whole and in order");

            producer.configure(10, 100, 0, 0).run(1);              // room again once consumed
            assertEquals(1000 - ok, producer.ringFailed());
            assertEquals(10, ring.consume(r -> true));
        }
    }

    @Test
    void pollWakesWhenAProducerOnAnotherThreadSubmits() throws Exception {
        try (Producer producer = Producer.load(0); RingBuffer ring = RingBuffer.of(producer.ring())) {
            producer.configure(1, 64, 0, 0);
            // The default (adaptive) wakeup only fires when the consumer's published position is exactly at the
            // new record; a consumer that published late or skipped the fence before sleeping would miss it and
            // sit out its 10 s timeout. Twenty rounds of "sleep, then one record" make that visible.
            for (int round = 0; round < 20; round++) {
                BlockedCall<Integer> blocked = BlockedCall.start("poll", () -> ring.poll(r -> true,
                        Duration.ofSeconds(10)), 30);
                long t0 = System.nanoTime();
                producer.run(1);
                assertEquals(1, blocked.get(), "round " + round);
                assertTrue(blocked.millisSince(t0) < 2_000, "round " + round + ": woken after "
                        + blocked.millisSince(t0) + " ms");
            }
            assertEquals(20, ring.delivered());
        }
    }

    @Test
    void aConsumerKeepsUpWithABusyProducerWithoutLosingAWakeup() throws Exception {
        try (Producer producer = Producer.load(SMALL); RingBuffer ring = RingBuffer.of(producer.ring())) {
            producer.configure(7, 100, 0, 0);                   // bursts of 7 records, 784 bytes
            int bursts = 400;
            Semaphore room = new Semaphore(10);                   // at most 10 bursts (7840 bytes) unread
            AtomicReference<Throwable> failure = new AtomicReference<>();
            Thread consumer = new Thread(() -> {
                long[] next = {0};
                try {
                    while (next[0] < 7L * bursts) {
                        int n = ring.poll(r -> {
                            assertEquals(next[0]++, producer.check(r));
                            if (next[0] % 7 == 0) {
                                room.release();
                            }
                            return true;
                        }, Duration.ofSeconds(10));
                        assertTrue(n > 0, "poll timed out: a wakeup was lost at record " + next[0]);
                    }
                } catch (Throwable t) {
                    failure.set(t);
                    room.release(1000);
                }
            }, "consumer");
            consumer.start();
            for (int i = 0; i < bursts && failure.get() == null; i++) {
                assertTrue(room.tryAcquire(10, TimeUnit.SECONDS));
                producer.run(1);
            }
            consumer.join(20_000);
            assertNull(failure.get());
            assertEquals(7L * bursts, ring.delivered());
            assertEquals(0, producer.ringFailed());
        }
    }

    @Test
    void twoProducersOnTwoCpusDeliverEveryRecordOnceInReservationOrder() throws Exception {
        List<Integer> cpus = cpusWeMayUse();
        Kernel.require(cpus.size() >= 2, "two CPUs this process may run on (found " + cpus + ")");
        int perRun = 100;
        int runs = 50;
        int size = 24;
        try (Producer producer = Producer.load(1 << 20); RingBuffer ring = RingBuffer.of(producer.ring())) {
            producer.configure(perRun, size, 0, 0);
            CyclicBarrier start = new CyclicBarrier(2);
            AtomicReference<Throwable> failure = new AtomicReference<>();
            Thread[] producers = new Thread[2];
            for (int p = 0; p < 2; p++) {
                int cpu = cpus.get(p);
                producers[p] = new Thread(() -> {
                    try {
                        start.await();
                        for (int i = 0; i < runs; i++) {
                            producer.runOn(cpu, 1);
                        }
                    } catch (Throwable t) {
                        failure.set(t);
                    }
                }, "producer-cpu" + cpu);
                producers[p].start();
            }
            int total = 2 * perRun * runs;
            BitSet seen = new BitSet(total);
            long[] lastCpuSeq = {-1, -1};
            int[] perCpu = new int[2];
            long[] lastAt = {-1};
            int step = 8 + size;  // header + payload, already 8-aligned
            RecordHandler check = r -> {
                // Reservation order across CPUs is position order: each record starts right after the one before
                // (modulo the ring size; nothing is discarded here), so any reordering by the reader shows up.
                if (lastAt[0] >= 0) {
                    assertEquals(step, Math.floorMod(r.address() - lastAt[0], 1L << 20),
                            "records delivered in ring position (reservation) order");
                }
                lastAt[0] = r.address();
                int seq = (int) producer.check(r);
                assertFalse(seen.get(seq), "record " + seq + " delivered twice");
                seen.set(seq);
                int p = cpus.indexOf(r.get(ValueLayout.JAVA_INT, Producer.CPU));
                assertTrue(p >= 0, "record from an unexpected CPU");
                long cpuSeq = Integer.toUnsignedLong(r.get(ValueLayout.JAVA_INT, Producer.CPU_SEQ));
                assertEquals(lastCpuSeq[p] + 1, cpuSeq, "CPU " + cpus.get(p) + "'s records in reservation order");
                lastCpuSeq[p] = cpuSeq;
                perCpu[p]++;
                return true;
            };
            int delivered = 0;
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (delivered < total && System.nanoTime() < deadline) {
                delivered += ring.poll(check, Duration.ofMillis(100));
            }
            for (Thread t : producers) {
                t.join();
            }
            assertNull(failure.get());
            assertEquals(0, producer.ringFailed());
            assertEquals(total, delivered);
            assertEquals(total, seen.cardinality(), "every sequence number once");
            assertArrayEquals(new int[]{perRun * runs, perRun * runs}, perCpu);
        }
    }

    private static List<Integer> cpusWeMayUse() {
        BitSet allowed = dev.panbpf.internal.Sys.affinity();
        List<Integer> cpus = new ArrayList<>();
        for (int cpu : Cpus.online()) {
            if (allowed.get(cpu)) {
                cpus.add(cpu);
            }
        }
        return cpus;
    }
}
