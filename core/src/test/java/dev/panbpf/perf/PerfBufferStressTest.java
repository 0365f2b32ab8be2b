package dev.panbpf.perf;

import dev.panbpf.BufferClosedException;
import dev.panbpf.Cpus;
import dev.panbpf.perf.PerfProducer.Payload;
import dev.panbpf.testing.Kernel;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;
import java.time.Duration;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Open/close cycles of PerfBuffer and OrderedPerfBuffer under load, against the real kernel: per cycle a
 * consumer polls (and flushes), a waker calls wakeup(), a closer closes at a random moment (sometimes the handler
 * closes first), while producers on every CPU keep writing through BPF_PROG_TEST_RUN. No call may hang (every
 * join has a timeout) or fail other than with BufferClosedException at the end of its cycle; every record the
 * kernel accepted is delivered once or counted in droppedAtClose; no perf fd or mapping is left open.
 */
class PerfBufferStressTest {
    private static final long BUDGET_NANOS = TimeUnit.MILLISECONDS.toNanos(Long.getLong("panbpf.stress.millis", 2000));
    private static final long JOIN_MILLIS = 10_000;

    private PerfProducer producer;
    private final AtomicBoolean producing = new AtomicBoolean(true);
    private final List<Thread> producers = new ArrayList<>();
    private final ConcurrentLinkedQueue<Throwable> failures = new ConcurrentLinkedQueue<>();
    private final BitSet seen = new BitSet();
    private long handledTotal;
    private long droppedTotal;
    private long lostTotal;
    private int cycles;

    @BeforeAll
    static void root() {
        Kernel.requireRoot();
    }

    @BeforeEach
    void start() {
        producer = new PerfProducer().configure(4, 40);
        for (int cpu : Cpus.online()) {
            Thread t = new Thread(() -> {
                try {
                    while (producing.get()) {
                        producer.run(cpu, 1);
                        LockSupport.parkNanos(20_000);  // leave the CPUs some time for the readers
                    }
                } catch (Throwable e) {
                    failures.add(e);
                }
            }, "producer on CPU " + cpu);
            t.setDaemon(true);
            t.start();
            producers.add(t);
        }
    }

    @AfterEach
    void stop() throws InterruptedException {
        producing.set(false);
        for (Thread t : producers) {
            t.join(JOIN_MILLIS);
        }
        producer.close();
    }

    /** A reader under test, whichever kind: what the consumer, waker and closer threads call. */
    interface Reader {
        void consumeOnce(Random r) throws Exception;
        void wakeup();
        void close();
        long delivered();
        long lost();
        long droppedAtClose();
    }

    /** Records a delivered payload: once per seq, or the test fails. */
    private void deliveredOnce(MemorySegment payload, AtomicLong handled) {
        long seq = Payload.of(payload).seq();
        synchronized (seen) {
            if (seen.get((int) seq)) {
                failures.add(new AssertionError("seq " + seq + " delivered twice"));
            }
            seen.set((int) seq);
        }
        handled.incrementAndGet();
    }

    private void runCycles(String kind, java.util.function.BiFunction<Random, AtomicLong, Reader> open)
            throws Exception {
        Random r = new Random(42);
        long[] perf = PerfLeaks.now();
        int fds = Kernel.openFds();
        long end = System.nanoTime() + BUDGET_NANOS;
        while (System.nanoTime() < end) {
            cycles++;
            AtomicLong handled = new AtomicLong();
            Reader reader = open.apply(new Random(r.nextLong()), handled);
            AtomicBoolean cycleOver = new AtomicBoolean();
            long seedConsumer = r.nextLong();
            Thread consumer = new Thread(() -> {
                Random cr = new Random(seedConsumer);
                try {
                    while (true) {
                        reader.consumeOnce(cr);
                    }
                } catch (BufferClosedException closed) {
                    // the end of this cycle
                } catch (Throwable e) {
                    failures.add(e);
                }
            }, kind + " consumer");
            Thread waker = new Thread(() -> {
                try {
                    while (!cycleOver.get()) {
                        reader.wakeup();
                        LockSupport.parkNanos(500_000);
                    }
                } catch (Throwable e) {
                    failures.add(e);
                }
            }, kind + " waker");
            long closeAfter = TimeUnit.MILLISECONDS.toNanos(5 + r.nextInt(60));
            Thread closer = new Thread(() -> {
                LockSupport.parkNanos(closeAfter);
                reader.close();
            }, kind + " closer");
            consumer.start();
            waker.start();
            closer.start();
            join(closer);
            join(consumer);
            cycleOver.set(true);
            join(waker);
            assertEquals(handled.get(), reader.delivered(), "delivered() counts each handler call once");
            handledTotal += handled.get();
            droppedTotal += reader.droppedAtClose();
            lostTotal += reader.lost();
            assertTrue(failures.isEmpty(), () -> kind + " cycle " + cycles + ": " + failures);
        }
        producing.set(false);
        for (Thread t : producers) {
            join(t);
        }
        assertTrue(failures.isEmpty(), () -> String.valueOf(failures));
        long ok = producer.counters().perfOk();
        long failed = producer.counters().perfFailed();
        System.out.printf("%s stress: %d cycles, %d records accepted by the kernel (%d refused), %d delivered, "
                + "%d dropped at close, %d reported lost%n", kind, cycles, ok, failed, handledTotal, droppedTotal,
                lostTotal);
        assertTrue(cycles >= 5, "ran " + cycles + " cycles");
        assertTrue(handledTotal > 0, "something was delivered");
        assertEquals(ok, handledTotal + droppedTotal, "every record the kernel accepted was delivered once or "
                + "counted as dropped at close");
        assertTrue(lostTotal <= failed, "lost " + lostTotal + " of " + failed + " refused");
        assertEquals(fds, Kernel.openFds(), "no fd left open");
        PerfLeaks.assertBackTo(perf);
    }

    private static void join(Thread t) throws InterruptedException {
        t.join(JOIN_MILLIS);
        if (t.isAlive()) {
            StringBuilder stack = new StringBuilder();
            for (StackTraceElement e : t.getStackTrace()) {
                stack.append("\n  at ").append(e);
            }
            fail(t.getName() + " hangs:" + stack);
        }
    }

    private static PerfOptions options(Random r) {
        PerfOptions o = PerfOptions.defaults().pagesPerCpu(r.nextBoolean() ? 1 : 4);
        return r.nextBoolean() ? o.wakeupEvents(1 + r.nextInt(8)) : o;
    }

    @Test
    void perfBufferCyclesUnderLoadDeliverOrCountEveryRecordAndLeakNothing() throws Exception {
        runCycles("PerfBuffer", (r, handled) -> {
            boolean handlerCloses = r.nextInt(4) == 0;
            long closeAt = 1 + r.nextInt(200);
            PerfBuffer pb = PerfBuffer.of(producer.pb(), options(r));
            PerfBuffer.Handler handler = (cpu, p, t) -> {
                deliveredOnce(p, handled);
                if (handlerCloses && handled.get() == closeAt) {
                    pb.close();
                }
                return true;
            };
            return new Reader() {
                public void consumeOnce(Random cr) {
                    if (cr.nextInt(5) == 0) {
                        pb.consume(handler);
                    } else {
                        pb.poll(handler, Duration.ofMillis(cr.nextInt(20)));
                    }
                }
                public void wakeup() { pb.wakeup(); }
                public void close() { pb.close(); }
                public long delivered() { return pb.delivered(); }
                public long lost() { return pb.lost(); }
                public long droppedAtClose() { return pb.droppedAtClose(); }
            };
        });
    }

    @Test
    void orderedPerfBufferCyclesUnderLoadDeliverOrCountEveryRecordAndLeakNothing() throws Exception {
        runCycles("OrderedPerfBuffer", (r, handled) -> {
            boolean handlerCloses = r.nextInt(4) == 0;
            long closeAt = 1 + r.nextInt(200);
            OrderedPerfBuffer ob = OrderedPerfBuffer.of(producer.pb(), options(r),
                    Duration.ofMillis(r.nextInt(3) == 0 ? 0 : 1 + r.nextInt(10)));
            OrderedPerfBuffer.Handler handler = (cpu, p, ts, late) -> {
                deliveredOnce(p, handled);
                if (handlerCloses && handled.get() == closeAt) {
                    ob.close();
                }
                return true;
            };
            return new Reader() {
                public void consumeOnce(Random cr) {
                    if (cr.nextInt(8) == 0) {
                        ob.flush(handler);
                    } else {
                        ob.poll(handler, Duration.ofMillis(cr.nextInt(20)));
                    }
                }
                public void wakeup() { ob.wakeup(); }
                public void close() { ob.close(); }
                public long delivered() { return ob.delivered(); }
                public long lost() { return ob.lost(); }
                public long droppedAtClose() { return ob.droppedAtClose(); }
            };
        });
    }
}
