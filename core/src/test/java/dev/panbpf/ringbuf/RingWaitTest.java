package dev.panbpf.ringbuf;

import dev.panbpf.BufferClosedException;
import dev.panbpf.internal.ConsumerGate;
import dev.panbpf.internal.Deadline;
import dev.panbpf.internal.Epoll;
import dev.panbpf.testing.BlockedCall;
import dev.panbpf.testing.Kernel;
import dev.panbpf.testing.Producer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

import static dev.panbpf.testing.Threads.start;
import static org.junit.jupiter.api.Assertions.*;

/**
 * How a ring poll waits: it never loses a kernel wakeup, never spins on a BUSY head record or on an interrupted
 * thread, and a close ends any wait at once (from the adversarial review; the FIXED test is a defect it found).
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class RingWaitTest {
    @BeforeAll
    static void root() {
        Kernel.requireRoot();
    }

    @Test
    void pingPongWithTheKernelNeverLosesAWakeup() throws Exception {
        try (Producer p = Producer.load(0); RingBuffer ring = RingBuffer.of(p.ring())) {
            p.configure(1, 32, 0, 0);
            AtomicLong got = new AtomicLong();
            AtomicReference<Throwable> bad = new AtomicReference<>();
            AtomicBoolean stop = new AtomicBoolean();
            Thread consumer = start("consumer", () -> {
                try {
                    while (!stop.get()) {
                        ring.poll(r -> { got.incrementAndGet(); return true; }, Duration.ofSeconds(30));
                    }
                } catch (BufferClosedException expected) {
                    // end
                } catch (Throwable e) {
                    bad.set(e);
                }
            });
            int cpus = Runtime.getRuntime().availableProcessors();
            for (int i = 1; i <= 2000; i++) {
                p.runOn(i % cpus, 1);
                long end = System.nanoTime() + 2_000_000_000L;
                while (got.get() < i) {
                    assertTrue(System.nanoTime() < end, "record " + i + " not delivered in 2 s: lost wakeup");
                    if ((i & 7) == 0) {
                        Thread.onSpinWait();
                    } else {
                        Thread.yield();
                    }
                }
            }
            stop.set(true);
            ring.close();
            consumer.join(2000);
            assertFalse(consumer.isAlive());
            assertNull(bad.get());
        }
    }

    @Test
    void interruptEndsAPollOnAnEmptyRingWithoutAnEpollWaitOrABusyWaitAndKeepsTheStatus() throws Exception {
        try (Producer p = Producer.load(0)) {
            RingBuffer ring = RingBuffer.of(p.ring());
            AtomicReference<Thread> th = new AtomicReference<>();
            java.util.concurrent.atomic.AtomicBoolean kept = new java.util.concurrent.atomic.AtomicBoolean();
            BlockedCall<Integer> call = BlockedCall.start("interrupted", () -> {
                th.set(Thread.currentThread());
                int total = ring.poll(r -> true, Duration.ofSeconds(30));    // ended by the interrupt
                for (int i = 0; i < 1000; i++) {      // and later polls of the interrupted thread do not wait
                    total += ring.poll(r -> true, Duration.ofSeconds(30));
                }
                kept.set(Thread.currentThread().isInterrupted());
                return total;
            });
            th.get().interrupt();
            assertEquals(0, call.get(), "the interrupted polls return, with nothing");
            assertTrue(kept.get(), "the interrupt status stays set");
            assertEquals(0, ring.busyWaits());
            ring.close();
        }
    }

    @Test
    void closeReleasesAnEndlessPollStuckOnABusyHeadWithin100ms() throws Exception {
        try (FakeRing fake = new FakeRing(4096)) {
            fake.reserve(16);
            RingReader reader = fake.reader();
            Epoll epoll = new Epoll(1);
            ConsumerGate gate = new ConsumerGate("fake", epoll::close);
            RingPollLoop loop = new RingPollLoop(new RingReader[]{reader}, gate, epoll);
            BlockedCall<Integer> call = BlockedCall.start("busy poll", () -> {
                gate.enter();
                try {
                    return loop.poll(RingPollLoop.whole(reader), r -> true, Deadline.NEVER);
                } finally {
                    gate.exit();
                }
            });
            assertFalse(call.result.isDone());
            long t0 = System.nanoTime();
            reader.stopForClose();                 // what RingBuffer.close() does
            if (gate.close()) {
                epoll.wakeup();
            }
            assertEquals(0, call.get());
            assertTrue(call.millisSince(t0) < 2000, "took " + call.millisSince(t0) + " ms");
        }
    }

    @Test
    void busyHeadPollSleepsInsteadOfSpinning() {
        try (FakeRing fake = new FakeRing(4096)) {
            assertTrue(busyWaitsIn300ms(fake, false) < 1000);
        }
    }

    /**
     * FIXED: spin. A poll on an interrupted thread whose head record is BUSY spins on the CPU until its
     * deadline: BusyBackoff.pause sleeps with LockSupport.parkNanos, which returns at once while the thread's
     * interrupt status is set (and RingPollLoop never looks at it), so the "20 µs doubling to 4 ms" backoff
     * becomes a busy loop (millions of passes in 300 ms instead of ~85). RingBuffer documents that interrupt
     * does not end a poll; it must not turn it into a spin either. Fix: in BusyBackoff.pause, if
     * Thread.interrupted() was set, sleep without it (e.g. clear, park, restore the flag after the poll) or
     * sleep in epoll_wait with a timeout (not affected by Java interrupts).
     */
    @Test
    void interruptedPollOnABusyHeadSleepsInsteadOfSpinning() {
        try (FakeRing fake = new FakeRing(4096)) {
            long sleeps = busyWaitsIn300ms(fake, true);
            assertTrue(sleeps < 1000, "poll spun: " + sleeps + " backoff passes in 300 ms");
        }
    }

    /** Polls a fake ring whose head record stays BUSY for 300 ms through the real RingPollLoop; its sleep count. */
    static long busyWaitsIn300ms(FakeRing fake, boolean interrupted) {
        fake.reserve(16);                                       // BUSY, never committed
        RingReader reader = fake.reader();
        Epoll epoll = new Epoll(1);
        ConsumerGate gate = new ConsumerGate("fake", () -> { });
        RingPollLoop loop = new RingPollLoop(new RingReader[]{reader}, gate, epoll);
        try {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
            gate.enter();
            try {
                assertEquals(0, loop.poll(RingPollLoop.whole(reader), r -> true,
                        Deadline.after(Duration.ofMillis(300))));
            } finally {
                gate.exit();
            }
            return loop.busyWaits();
        } finally {
            Thread.interrupted();
            epoll.close();
        }
    }
}
