package dev.panbpf.ringbuf;

import dev.panbpf.BpfMap;
import dev.panbpf.BpfObject;
import dev.panbpf.BufferClosedException;
import dev.panbpf.bpf.BpfPrograms;
import dev.panbpf.testing.Kernel;
import dev.panbpf.testing.Producer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.time.Duration;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Each ring reader and the user ring writer under a consumer, a closer, a waker and a producer on separate
 * threads, reader after reader on one map: no crash, no hang (every wait is bounded), no leaked fd or mapping,
 * and every record the producer made is delivered, discarded by the program, refused by a full ring (counted by
 * the program), or, for the user ring, discarded at close and counted.
 */
class RingStressTest {
    private static final int SIZE = 16 * 4096;
    private static final long MILLIS = 1500;

    @BeforeAll
    static void root() {
        Kernel.requireRoot();
    }

    /** A consumer side under test: opens a reader, polls it once, closes it, reports what it delivered. */
    private interface Reader extends AutoCloseable {
        void poll();

        void wakeup();

        long delivered();

        @Override
        void close();
    }

    @Test
    void ringBufferUnderConsumerCloserWakerAndProducerLosesNothing() throws Exception {
        stress(map -> {
            RingBuffer ring = RingBuffer.of(map);
            return reader(() -> ring.poll(r -> true, Duration.ofMillis(20)), ring::wakeup, ring::delivered,
                    ring::close);
        });
    }

    @Test
    void ringBufferPollerUnderConsumerCloserWakerAndProducerLosesNothing() throws Exception {
        stress(map -> {
            RingBufferPoller poller = RingBufferPoller.builder().add(map, r -> true).batch(7).build();
            return reader(() -> poller.poll(Duration.ofMillis(20)), poller::wakeup, poller::delivered,
                    poller::close);
        });
    }

    private static Reader reader(Runnable poll, Runnable wakeup, java.util.function.LongSupplier delivered,
                                 Runnable close) {
        return new Reader() {
            public void poll() {
                poll.run();
            }

            public void wakeup() {
                wakeup.run();
            }

            public long delivered() {
                return delivered.getAsLong();
            }

            public void close() {
                close.run();
            }
        };
    }

    private static void stress(Function<BpfMap, Reader> open) throws Exception {
        int fds = Kernel.openFds();
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try (Producer p = Producer.load(SIZE)) {
            p.configure(64, 40, 5, 0);
            AtomicBoolean producing = new AtomicBoolean(true);
            Future<?> producer = pool.submit(() -> {
                while (producing.get()) {
                    p.run(4);
                }
            });
            long delivered = 0;
            SplittableRandom rnd = new SplittableRandom(42);
            long end = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(MILLIS);
            int cycles = 0;
            while (System.nanoTime() < end) {
                Reader reader = open.apply(p.ring());
                AtomicBoolean stop = new AtomicBoolean();
                Future<Throwable> consumer = pool.submit(() -> {
                    try {
                        while (true) {
                            reader.poll();
                        }
                    } catch (Throwable t) {
                        return t;
                    }
                });
                Future<?> waker = pool.submit(() -> {
                    while (!stop.get()) {
                        reader.wakeup();
                        Thread.onSpinWait();
                    }
                });
                Thread.sleep(rnd.nextInt(1, 25));
                reader.close();                                // the closer: this thread
                Throwable t = consumer.get(2, TimeUnit.SECONDS);
                assertInstanceOf(BufferClosedException.class, t, "the consumer ended with " + t);
                stop.set(true);
                waker.get(2, TimeUnit.SECONDS);
                delivered += reader.delivered();
                cycles++;
            }
            producing.set(false);
            producer.get(5, TimeUnit.SECONDS);
            try (RingBuffer last = RingBuffer.of(p.ring())) {
                last.consume(r -> true);
                delivered += last.delivered();
            }
            assertTrue(cycles > 5, "only " + cycles + " open/close cycles ran");
            assertTrue(p.seq() > 1000, "the producer ran " + p.seq() + " records only");
            assertEquals(p.seq(), delivered + p.ringDiscarded() + p.ringFailed(),
                    "produced = delivered + discarded + refused (delivered " + delivered + ", discarded "
                            + p.ringDiscarded() + ", refused " + p.ringFailed() + ")");
        } finally {
            pool.shutdownNow();
            assertTrue(pool.awaitTermination(5, TimeUnit.SECONDS), "a thread hung");
        }
        assertEquals(fds, Kernel.openFds(), "fds leaked");
    }

    @Test
    void userRingBufferUnderWriterCloserWakerAndDrainerLosesNothing() throws Exception {
        int fds = Kernel.openFds();
        ExecutorService pool = Executors.newFixedThreadPool(3);
        try (BpfObject obj = BpfObject.open(BpfPrograms.bytes("user_ringbuf.bpf.o"), "user_ringbuf")) {
            obj.setMaxEntries("user_rb", SIZE).load();
            MemorySegment packet = Arena.ofAuto().allocate(64);
            AtomicBoolean draining = new AtomicBoolean(true);
            Future<?> drainer = pool.submit(() -> {
                while (draining.get()) {
                    obj.program("drain").testRun(packet, 1);
                }
            });
            AtomicLong value = new AtomicLong();
            long submitted = 0;
            long dropped = 0;
            SplittableRandom rnd = new SplittableRandom(7);
            long end = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(MILLIS);
            while (System.nanoTime() < end) {
                UserRingBuffer ring = UserRingBuffer.of(obj.map("user_rb"));
                AtomicBoolean stop = new AtomicBoolean();
                Future<Throwable> writer = pool.submit(() -> {
                    try {
                        while (true) {
                            MemorySegment s = ring.reserve(16 + 8 * (int) (value.get() % 5), Duration.ofMillis(20));
                            if (s == null) {
                                continue;
                            }
                            long v = value.get();
                            s.set(ValueLayout.JAVA_LONG, 0, v);
                            s.set(ValueLayout.JAVA_INT, 8, (int) s.byteSize());
                            s.set(ValueLayout.JAVA_INT, 12, 0);
                            for (int i = 16; i < s.byteSize(); i++) {
                                s.set(ValueLayout.JAVA_BYTE, i, (byte) (v + i));
                            }
                            ring.submit(s);
                            value.incrementAndGet();
                        }
                    } catch (Throwable t) {
                        return t;
                    }
                });
                Thread.sleep(rnd.nextInt(1, 25));
                ring.wakeup();
                ring.close();
                Throwable t = writer.get(2, TimeUnit.SECONDS);
                assertTrue(t instanceof BufferClosedException || t instanceof IllegalStateException,
                        "the writer ended with " + t);
                stop.set(true);
                submitted += ring.submitted();
                dropped += ring.droppedAtClose();
            }
            Thread.sleep(50);
            draining.set(false);
            drainer.get(5, TimeUnit.SECONDS);
            obj.program("drain").testRun(packet, 1);
            MemorySegment totals = Arena.ofAuto().allocate(64);
            try (Arena a = Arena.ofConfined()) {
                obj.map("totals").lookup(a.allocateFrom(ValueLayout.JAVA_INT, 0), totals);
            }
            assertEquals(submitted, totals.get(ValueLayout.JAVA_LONG, 16), "every submitted sample was drained "
                    + "(" + dropped + " reserved samples were discarded at close)");
            assertEquals(0, totals.get(ValueLayout.JAVA_LONG, 40), "bad samples");
        } finally {
            pool.shutdownNow();
            assertTrue(pool.awaitTermination(5, TimeUnit.SECONDS), "a thread hung");
        }
        assertEquals(fds, Kernel.openFds(), "fds leaked");
    }
}
