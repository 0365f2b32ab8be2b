package dev.panbpf.perf;

import dev.panbpf.BpfException;
import dev.panbpf.BufferClosedException;
import dev.panbpf.Cpus;
import dev.panbpf.event.StructCodec;
import dev.panbpf.perf.PerfProducer.Payload;
import dev.panbpf.testing.BlockedCall;
import dev.panbpf.testing.Kernel;
import dev.panbpf.testing.Signals;
import dev.panbpf.testing.Syscalls;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.lang.invoke.MethodHandles;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.*;

/**
 * PerfBuffer's contract at its edges, against the real kernel: a handler that throws or closes the buffer, a
 * sample that contradicts the options, a poll interrupted by signals, calls after close and what a close drops.
 */
class PerfBufferContractTest {
    private static final Duration LONG = Duration.ofSeconds(10);

    private PerfProducer producer;
    private final List<Payload> got = new ArrayList<>();
    private final PerfBuffer.Handler collect = (cpu, p, t) -> got.add(Payload.of(p));

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

    // ---------------------------------------------------------------------------------------------- defect 5

    @Test
    void recordsOfOtherCpusAreReadAfterAHandlerThrows() {
        List<Integer> cpus = PerfProducer.twoCpus();
        producer.configure(3, 32);
        try (PerfBuffer pb = PerfBuffer.of(producer.pb(), PerfProducer.on(cpus).payloadSize(32))) {
            producer.run(cpus.get(0), 1);
            producer.run(cpus.get(1), 1);
            AtomicInteger calls = new AtomicInteger();
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> pb.poll((c, p, t) -> {
                if (calls.getAndIncrement() == 0) {
                    throw new IllegalStateException("handler failed");
                }
                return collect.onRecord(c, p, t);
            }, LONG));
            assertEquals("handler failed", e.getMessage());
            long t0 = System.nanoTime();
            int n = pb.poll(collect, Duration.ofSeconds(5));
            long waited = System.nanoTime() - t0;
            assertEquals(5, n, "the rest of the ring that threw, and the other CPU's: " + got);
            assertTrue(waited < TimeUnit.SECONDS.toNanos(2), "read at once, not after waiting for a signal that "
                    + "the kernel will not send again (" + waited / 1_000_000 + " ms)");
            assertEquals(6, pb.delivered(), "the record whose handler threw counts as delivered");
            assertEquals(5, new HashSet<>(got.stream().map(Payload::seq).toList()).size(), "each once");
        }
    }

    @Test
    void recordsOfOtherCpusAreReadAfterASampleContradictsThePayloadSize() {
        List<Integer> cpus = PerfProducer.twoCpus();
        try (PerfBuffer pb = PerfBuffer.of(producer.pb(), PerfProducer.on(cpus).payloadSize(64))) {
            producer.configure(1, 100).run(cpus.get(0), 1);   // 100 bytes where the options say 64
            producer.configure(2, 64).run(cpus.get(1), 1);
            BpfException e = assertThrows(BpfException.class, () -> pb.poll(collect, LONG));
            assertTrue(e.getMessage().contains("CPU " + cpus.get(0)) && e.getMessage().contains("payloadSize"),
                    e.getMessage());
            assertEquals(2, pb.poll(collect, Duration.ofSeconds(5)), "the other CPU's records are not stranded");
            assertEquals(List.of(cpus.get(1), cpus.get(1)), got.stream().map(Payload::cpu).toList());
        }
    }

    // ---------------------------------------------------------------------------------------------- stopping early

    /** A handler that collects and returns false on its {@code n}th call. */
    private PerfBuffer.Handler stopAt(int n) {
        AtomicInteger calls = new AtomicInteger();
        return (c, p, t) -> collect.onRecord(c, p, t) && calls.incrementAndGet() < n;
    }

    @Test
    void aHandlerReturningFalseEndsTheCallAndTheRecordsBehindItComeNextEachOnce() {
        List<Integer> cpus = PerfProducer.twoCpus();
        producer.configure(3, 32);
        try (PerfBuffer pb = PerfBuffer.of(producer.pb(), PerfProducer.on(cpus).payloadSize(32))) {
            producer.run(cpus.get(0), 1);
            producer.run(cpus.get(1), 1);
            assertEquals(2, pb.poll(stopAt(2), LONG), "the call returns after the record that said stop");
            assertEquals(2, pb.delivered());
            assertEquals(2, pb.delivered(cpus.get(0)));
            long t0 = System.nanoTime();
            assertEquals(4, pb.poll(collect, Duration.ofSeconds(5)), "the rest of that ring, then the other's");
            assertTrue(System.nanoTime() - t0 < TimeUnit.SECONDS.toNanos(2), "read at once: they had signalled");
            producer.run(cpus.get(1), 1);
            assertEquals(1, pb.consume(stopAt(1)));
            assertEquals(2, pb.consume(cpus.get(1), collect));
            assertEquals(0, pb.consume(collect));
            assertEquals(9, pb.delivered());
            assertEquals(9, new HashSet<>(got.stream().map(Payload::seq).toList()).size(), "each once");
            for (int cpu : cpus) {
                List<Integer> order = got.stream().filter(g -> g.cpu() == cpu).map(Payload::cpuSeq).toList();
                for (int i = 1; i < order.size(); i++) {
                    assertEquals(order.get(i - 1) + 1, order.get(i), "CPU " + cpu + "'s records in order: " + order);
                }
            }
        }
    }

    /** The producer's payload head, as a typed view decodes it. */
    record Head(long seq, long ts, int cpu, int cpuSeq) { }

    @Test
    void aTypedHandlerReturningFalseEndsTheCallToo() {
        int cpu = Cpus.online().getFirst();
        producer.configure(4, 32);
        StructCodec<Head> codec = StructCodec.of(Head.class, MethodHandles.lookup()).assumeVerified();
        List<Head> heads = new ArrayList<>();
        try (PerfBuffer pb = PerfBuffer.of(producer.pb(), PerfProducer.on(List.of(cpu)))) {
            producer.run(cpu, 1);
            assertEquals(1, pb.consume(codec, h -> heads.add(h) && heads.size() < 1));
            assertEquals(2, pb.poll(codec, h -> heads.add(h) && heads.size() < 3, LONG));
            assertEquals(1, pb.consume(codec, heads::add));
            assertEquals(List.of(0, 1, 2, 3), heads.stream().map(Head::cpuSeq).toList());
            assertEquals(4, pb.delivered());
        }
    }

    // ---------------------------------------------------------------------------------------------- defect 13

    @Test
    void aHandlerThatClosesTheBufferGetsNoFurtherRecordAndTheRestIsCountedAsDropped() {
        List<Integer> cpus = PerfProducer.twoCpus();
        producer.configure(5, 32);
        long[] perf = PerfLeaks.now();
        PerfBuffer pb = PerfBuffer.of(producer.pb(), PerfProducer.on(cpus));
        producer.run(cpus.get(0), 1);
        producer.run(cpus.get(1), 1);
        AtomicInteger calls = new AtomicInteger();
        assertEquals(1, pb.poll((c, p, t) -> {
            calls.incrementAndGet();
            pb.close();
            return true;
        }, LONG));
        assertEquals(1, calls.get(), "nothing after the close");
        assertTrue(pb.isClosed());
        assertEquals(9, pb.droppedAtClose(), "the other nine were unread, and are counted");
        assertEquals(1, pb.delivered());
        PerfLeaks.assertBackTo(perf);
    }

    @Test
    void closeCountsTheSamplesLeftInTheRingsAsDroppedAtClose() {
        List<Integer> cpus = PerfProducer.twoCpus();
        producer.configure(4, 64);
        PerfBuffer pb = PerfBuffer.of(producer.pb(), PerfProducer.on(cpus));
        producer.run(cpus.get(0), 3);
        producer.run(cpus.get(1), 1);
        assertEquals(4, pb.consume(cpus.get(1), collect));
        assertEquals(0, pb.droppedAtClose(), "nothing is dropped before close");
        pb.close();
        assertEquals(12, pb.droppedAtClose());
        assertEquals(4, pb.delivered(), "the counters stay readable after close");
        assertEquals(0, pb.lost());
        assertEquals(4, pb.delivered(cpus.get(1)));
        assertEquals(0, pb.lost(cpus.get(0)));
    }

    @Test
    void aPollInterruptedBySignalsWaitsOutItsTimeout() throws Exception {
        try (PerfBuffer pb = PerfBuffer.of(producer.pb()); Signals signals = new Signals()) {
            AtomicInteger tid = new AtomicInteger();
            BlockedCall<Long> call = BlockedCall.start("interrupted poller", () -> {
                tid.set(Syscalls.gettid());
                long t0 = System.nanoTime();
                assertEquals(0, pb.poll((c, p, t) -> fail("no record was sent"), Duration.ofMillis(400)));
                return System.nanoTime() - t0;
            }, 50);
            for (int i = 0; i < 5 && signals.interrupt(tid.get()); i++) {
                Thread.sleep(20);
            }
            long took = call.get();
            assertTrue(took >= TimeUnit.MILLISECONDS.toNanos(390), "EINTR ended the wait after "
                    + took / 1_000_000 + " ms of 400");
        }
    }

    @Test
    void aPollInterruptedBySignalsStillReturnsTheRecordThatArrivesLater() throws Exception {
        int cpu = Cpus.online().getFirst();
        producer.configure(1, 24);
        try (PerfBuffer pb = PerfBuffer.of(producer.pb(), PerfProducer.on(List.of(cpu))); Signals signals = new Signals()) {
            AtomicInteger tid = new AtomicInteger();
            BlockedCall<Integer> call = BlockedCall.start("interrupted poller", () -> {
                tid.set(Syscalls.gettid());
                return pb.poll(collect, LONG);
            }, 50);
            for (int i = 0; i < 2 && signals.interrupt(tid.get()); i++) {
                Thread.sleep(50);
            }
            assertFalse(call.result.isDone(), "still waiting after the signals");
            producer.run(cpu, 1);
            assertEquals(1, call.get());
        }
    }

    // ---------------------------------------------------------------------------------------------- defect 9

    @Test
    void everyReadOfAClosedBufferThrowsBufferClosedExceptionWhileItsCountersStayReadable() {
        int cpu = Cpus.online().getFirst();
        PerfBuffer pb = PerfBuffer.of(producer.pb(), PerfProducer.on(List.of(cpu)));
        pb.close();
        BufferClosedException e = assertThrows(BufferClosedException.class, () -> pb.poll(collect, LONG));
        assertTrue(e.getMessage().contains("perf buffer on") && e.getMessage().contains("is closed"),
                e.getMessage());
        assertThrows(BufferClosedException.class, () -> pb.poll(collect, Duration.ZERO));
        assertThrows(BufferClosedException.class, () -> pb.consume(collect));
        assertThrows(BufferClosedException.class, () -> pb.consume(cpu, collect));
        pb.wakeup();   // harmless
        assertEquals(0, pb.delivered());
        assertEquals(0, pb.lost(cpu));
        assertEquals(0, pb.droppedAtClose());
        assertEquals(List.of(cpu), pb.cpus());
        assertTrue(pb.toString().contains("closed"), pb.toString());
    }

    @Test
    void aPollLoopEndsOnceAnotherThreadClosesTheBuffer() throws Exception {
        PerfBuffer pb = PerfBuffer.of(producer.pb());
        AtomicInteger calls = new AtomicInteger();
        AtomicBoolean ended = new AtomicBoolean();
        Thread loop = new Thread(() -> {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
            try {
                while (System.nanoTime() < deadline) {
                    pb.poll(collect, Duration.ofMillis(100));
                    calls.incrementAndGet();
                }
            } catch (BufferClosedException closed) {
                ended.set(true);
            }
        }, "poll loop");
        loop.start();
        Thread.sleep(150);
        pb.close();
        loop.join(TimeUnit.SECONDS.toMillis(10));
        assertFalse(loop.isAlive());
        assertTrue(ended.get(), "the loop ended by BufferClosedException, after " + calls.get() + " polls");
        assertTrue(calls.get() < 10, "it did not spin: " + calls.get() + " polls");
    }
}
