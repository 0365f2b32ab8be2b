package dev.panbpf.ringbuf;

import dev.panbpf.BufferClosedException;
import dev.panbpf.testing.Kernel;
import dev.panbpf.testing.Producer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The consume loop reads record headers through a view without a liveness check, so the only thing between it and
 * an unmapped page is the consumer gate, which unmaps a closed ring when its consumer has left. These tests close
 * rings from another thread while handlers run, over and over, and keep records past their handler and past the
 * close: every misuse must end in an exception (the JVM must not die of a SIGSEGV), and no record may be lost or
 * delivered twice across the readers that follow one another on the map.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class RingCloseWhileConsumingTest {
    private static final int RING = 1 << 20;
    private static final long MILLIS = 2500;

    @BeforeAll
    static void root() {
        Kernel.requireRoot();
    }

    @Test
    void closingFromAnotherThreadWhileHandlersRunNeverFaultsLosesOrRepeatsARecord() throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(2);
        int fds = Kernel.openFds();
        try (Producer p = Producer.load(RING)) {
            SplittableRandom rnd = new SplittableRandom(14);
            AtomicLong nextSeq = new AtomicLong();          // the seq the next delivered record must carry
            List<MemorySegment> keptOverall = new ArrayList<>();
            long end = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(MILLIS);
            int cycles = 0;
            int closedInsideAHandler = 0;
            while (System.nanoTime() < end || cycles < 50) {
                // Sizes alternate between runs of one length (the run fast path) and other lengths.
                p.configure(300, cycles % 3 == 0 ? 64 : 8 + 8 * (cycles % 40), 0, 0);
                RingBuffer ring = RingBuffer.of(p.ring());
                if (ring.availableBytes() < RING / 2) {
                    p.run(1);
                }
                boolean usePoll = rnd.nextBoolean();
                int spin = rnd.nextInt(0, 2000);
                AtomicBoolean inHandler = new AtomicBoolean();
                CountDownLatch firstRecord = new CountDownLatch(1);
                List<MemorySegment> kept = new ArrayList<>();
                AtomicBoolean sawCloseInside = new AtomicBoolean();
                RecordHandler handler = r -> {
                    inHandler.set(true);
                    long seq = r.get(ValueLayout.JAVA_LONG, 0);
                    assertEquals(nextSeq.getAndIncrement(), seq, "lost or repeated a record");
                    long sum = 0;
                    for (long i = 0; i < r.byteSize(); i++) {
                        sum += r.get(ValueLayout.JAVA_BYTE, i);
                    }
                    if (kept.size() < 4) {
                        kept.add(r);
                    }
                    for (MemorySegment k : kept) {
                        sum += k.get(ValueLayout.JAVA_BYTE, 0);  // still mapped while the consumer is inside
                    }
                    firstRecord.countDown();
                    for (int i = 0; i < spin; i++) {
                        Thread.onSpinWait();
                    }
                    if (ring.isClosed()) {
                        sawCloseInside.set(true);
                    }
                    inHandler.set(false);
                    return sum != Long.MIN_VALUE;
                };
                Future<Throwable> consumer = pool.submit(() -> {
                    try {
                        while (true) {
                            if (usePoll) {
                                ring.poll(handler, Duration.ofMillis(5));
                            } else {
                                ring.consume(handler);
                                Thread.onSpinWait();
                            }
                        }
                    } catch (Throwable t) {
                        return t;
                    }
                });
                firstRecord.await(1, TimeUnit.SECONDS);
                for (int i = rnd.nextInt(0, 20_000); i > 0; i--) {
                    Thread.onSpinWait();
                }
                if (inHandler.get()) {
                    closedInsideAHandler++;
                }
                ring.close();
                Throwable t = consumer.get(5, TimeUnit.SECONDS);
                assertInstanceOf(BufferClosedException.class, t, "the consumer ended with " + t);
                // The consumer has left: the mapping is gone, and every kept record throws instead of faulting,
                // on the consumer's thread and on this one.
                for (MemorySegment k : kept) {
                    assertThrows(IllegalStateException.class, () -> k.get(ValueLayout.JAVA_LONG, 0));
                    Future<?> elsewhere = pool.submit(() -> k.get(ValueLayout.JAVA_BYTE, k.byteSize() - 1));
                    Throwable e = assertThrows(java.util.concurrent.ExecutionException.class, elsewhere::get);
                    assertInstanceOf(IllegalStateException.class, e.getCause());
                }
                keptOverall.addAll(kept);
                cycles++;
            }
            try (RingBuffer last = RingBuffer.of(p.ring())) {
                last.consume(r -> {
                    assertEquals(nextSeq.getAndIncrement(), r.get(ValueLayout.JAVA_LONG, 0));
                    return true;
                });
            }
            assertEquals(0, p.ringFailed(), "the ring never overflowed, so every seq was delivered");
            assertEquals(p.seq(), nextSeq.get(), "every record delivered exactly once, in order");
            assertTrue(closedInsideAHandler > 5, "only " + closedInsideAHandler + " of " + cycles
                    + " closes landed while a handler ran");
            for (MemorySegment k : keptOverall) {
                assertThrows(IllegalStateException.class, () -> k.get(ValueLayout.JAVA_BYTE, 0));
            }
        } finally {
            pool.shutdownNow();
            assertTrue(pool.awaitTermination(5, TimeUnit.SECONDS), "a thread hung");
        }
        assertEquals(fds, Kernel.openFds(), "fds leaked");
    }

    @Test
    void aRecordReadOnAnotherThreadAcrossTheCloseThrowsInsteadOfFaulting() throws Exception {
        try (Producer p = Producer.load(RING)) {
            p.configure(2000, 64, 0, 0);
            for (int round = 0; round < 100; round++) {
                RingBuffer ring = RingBuffer.of(p.ring());
                p.run(1);
                MemorySegment[] kept = new MemorySegment[1];
                ring.consume(r -> {
                    if (kept[0] == null) {
                        kept[0] = r;
                    }
                    return true;
                }, 1 + round);
                AtomicLong reads = new AtomicLong();
                Thread reader = new Thread(() -> {
                    try {
                        while (true) {
                            kept[0].get(ValueLayout.JAVA_LONG, 0);
                            reads.incrementAndGet();
                        }
                    } catch (IllegalStateException expected) {
                        // the mapping closed under the reads: an exception, not a fault
                    }
                }, "kept-record reader");
                reader.setDaemon(true);
                reader.start();
                // Meanwhile this thread consumes the rest, so the close below may come right after a pass.
                ring.consume(r -> true);
                while (reads.get() < 100) {
                    Thread.onSpinWait();
                }
                ring.close();
                reader.join(5000);
                assertFalse(reader.isAlive(), "reads of a closed ring's record did not stop");
            }
        }
    }
}
