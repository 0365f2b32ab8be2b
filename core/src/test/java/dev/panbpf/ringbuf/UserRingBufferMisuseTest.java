package dev.panbpf.ringbuf;

import dev.panbpf.BpfObject;
import dev.panbpf.BufferClosedException;
import dev.panbpf.bpf.BpfPrograms;
import dev.panbpf.testing.BlockedCall;
import dev.panbpf.testing.Kernel;
import dev.panbpf.testing.Producer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import static dev.panbpf.testing.Fds.assertFdsBackTo;
import static dev.panbpf.testing.Threads.start;
import static org.junit.jupiter.api.Assertions.*;

/**
 * A user ring buffer closed or raced while samples are reserved, waiting for room or in a native call: a waiting
 * reserve comes back at once, reserved samples are discarded so the BPF side keeps draining, and the map is free
 * for the next writer (from the adversarial review; the FIXED test is a defect it found).
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class UserRingBufferMisuseTest {
    @BeforeAll
    static void root() {
        Kernel.requireRoot();
    }

    @Test
    void userRingCloseReleasesAWaitingReserveAndKillsItsSamples() throws Exception {
        int fds = Kernel.openFds();
        try (BpfObject o = BpfObject.open(BpfPrograms.bytes("user_ringbuf.bpf.o"), "user_ringbuf")) {
            o.setMaxEntries("user_rb", 4096).load();
            UserRingBuffer w = UserRingBuffer.of(o.map("user_rb"));
            assertThrows(IllegalArgumentException.class, () -> w.reserve(-1));
            assertThrows(IllegalArgumentException.class, () -> w.reserve(Integer.MAX_VALUE));
            assertThrows(IllegalArgumentException.class, () -> w.reserve(Integer.MIN_VALUE));
            assertThrows(IllegalArgumentException.class, () -> w.reserve(8, Duration.ofSeconds(-1)));
            MemorySegment zero = w.reserve(0);
            assertNotNull(zero);
            w.submit(zero);
            assertThrows(IllegalArgumentException.class, () -> w.submit(zero));
            MemorySegment big = w.reserve(w.maxSampleSize() - 8 * 2);
            assertNotNull(big);
            assertThrows(IllegalArgumentException.class, () -> w.submit(big.asSlice(8)));
            assertThrows(IllegalArgumentException.class, () -> w.submit(MemorySegment.ofArray(new byte[8])));
            assertThrows(IllegalArgumentException.class, () -> w.submit(Arena.ofAuto().allocate(8)));
            BlockedCall<MemorySegment> call = BlockedCall.start("full reserve",
                    () -> w.reserve(64, Duration.ofSeconds(Long.MAX_VALUE)));
            assertFalse(call.result.isDone());
            long t0 = System.nanoTime();
            w.close();
            assertNull(call.get());
            assertTrue(call.millisSince(t0) < 2000, "close took " + call.millisSince(t0) + " ms");
            assertEquals(1, w.droppedAtClose());
            assertThrows(BufferClosedException.class, () -> w.submit(big));
            assertThrows(BufferClosedException.class, () -> w.discard(big));
            assertThrows(IllegalStateException.class, () -> big.get(ValueLayout.JAVA_BYTE, 0));
            assertThrows(BufferClosedException.class, () -> w.reserve(8));
            assertThrows(BufferClosedException.class, () -> w.reserve(8, Duration.ZERO));
            assertThrows(BufferClosedException.class, w::freeBytes);
            assertThrows(BufferClosedException.class, w::producerPosition);
            assertThrows(BufferClosedException.class, w::consumerPosition);
            w.wakeup();
            w.close();
            // The BPF side drains past the sample the close discarded.
            try (UserRingBuffer again = UserRingBuffer.of(o.map("user_rb"))) {
                o.program("drain").testRun(new byte[64], 1);
                assertEquals(again.size(), again.freeBytes(), "the ring stayed stuck behind a BUSY sample");
            }
        }
        assertFdsBackTo(fds);
    }

    @Test
    void submitRacingCloseFromAnotherThreadOnlyThrowsBufferClosed() throws Exception {
        try (BpfObject o = BpfObject.open(BpfPrograms.bytes("user_ringbuf.bpf.o"), "user_ringbuf")) {
            o.setMaxEntries("user_rb", 16 * 4096).load();
            for (int round = 0; round < 200; round++) {
                UserRingBuffer w = UserRingBuffer.of(o.map("user_rb"));
                List<MemorySegment> samples = new ArrayList<>();
                for (int i = 0; i < 50; i++) {
                    samples.add(w.reserve(32));
                }
                AtomicReference<Throwable> bad = new AtomicReference<>();
                AtomicInteger ok = new AtomicInteger();
                Thread t = start("submitter", () -> {
                    for (MemorySegment s : samples) {
                        try {
                            w.submit(s);
                            ok.incrementAndGet();
                        } catch (BufferClosedException expected) {
                            // lost the race
                        } catch (Throwable e) {
                            bad.set(e);
                            return;
                        }
                    }
                });
                if (round % 3 != 0) {
                    Thread.onSpinWait();
                }
                w.close();
                t.join(2000);
                assertFalse(t.isAlive());
                assertNull(bad.get(), () -> "round: " + bad.get());
                assertEquals(50, ok.get() + w.droppedAtClose(), "a sample neither submitted nor dropped");
                try (UserRingBuffer again = UserRingBuffer.of(o.map("user_rb"))) {
                    o.program("drain").testRun(new byte[64], 1);
                    assertEquals(again.size(), again.freeBytes(), "round " + round + ": ring stuck");
                }
            }
        }
    }

    @Test
    void userRingReserveWaitingForRoomNeverMissesTheDrainWakeup() throws Exception {
        try (BpfObject o = BpfObject.open(BpfPrograms.bytes("user_ringbuf.bpf.o"), "user_ringbuf")) {
            o.setMaxEntries("user_rb", 4096).load();
            try (UserRingBuffer w = UserRingBuffer.of(o.map("user_rb"))) {
                int size = 2040;          // two samples fill the ring
                AtomicBoolean stop = new AtomicBoolean();
                AtomicReference<Throwable> bad = new AtomicReference<>();
                Thread drainer = start("drainer", () -> {
                    try {
                        long n = 0;
                        while (!stop.get()) {
                            if (w.freeBytes() < size + 8) {
                                if ((n++ & 3) == 0) {
                                    Thread.sleep(0, 200_000);
                                }
                                o.program("drain").testRun(new byte[64], 1);
                            } else {
                                Thread.onSpinWait();
                            }
                        }
                    } catch (BufferClosedException expected) {
                        // end
                    } catch (Throwable e) {
                        bad.set(e);
                    }
                });
                for (int i = 0; i < 1000; i++) {
                    MemorySegment s = w.reserve(size, Duration.ofSeconds(3));
                    assertNotNull(s, "sample " + i + ": no room within 3 s although the drainer drains: lost "
                            + "wakeup");
                    s.fill((byte) 0);
                    s.set(ValueLayout.JAVA_LONG, 0, i);
                    s.set(ValueLayout.JAVA_INT, 8, size);
                    for (int k = 16; k < size; k++) {
                        s.set(ValueLayout.JAVA_BYTE, k, (byte) (i + k));
                    }
                    w.submit(s);
                }
                stop.set(true);
                drainer.join(2000);
                assertNull(bad.get(), () -> "drainer: " + bad.get());
            }
        }
    }

    /**
     * FIXED: same as above for UserRingBuffer: a reserved sample passed to a native call when close() runs
     * makes close throw a raw IllegalStateException from RingMapping.close inside the release lambda of
     * UserRingBuffer's constructor, after which RingClaims.release(claim) is skipped: the map can never be
     * written again in this process.
     */
    @Test
    void userRingCloseWhileASampleIsInANativeCallFreesTheMap() throws Exception {
        try (BpfObject o = BpfObject.open(BpfPrograms.bytes("user_ringbuf.bpf.o"), "user_ringbuf");
             Producer p = Producer.load(0)) {
            o.setMaxEntries("user_rb", 4 * 4096).load();
            p.configure(1, 64, 0, 0);
            UserRingBuffer w = UserRingBuffer.of(o.map("user_rb"));
            MemorySegment sample = w.reserve(64);
            sample.fill((byte) 0);
            CountDownLatch started = new CountDownLatch(1);
            Thread runner = start("test run on a sample", () -> {
                started.countDown();
                p.object.program("produce").testRun(sample, 20_000_000);
            });
            started.await();
            Thread.sleep(100);
            assertTrue(runner.isAlive(), "the test run ended too soon to race the close");
            Throwable closeFailure = null;
            try {
                w.close();
            } catch (Throwable e) {
                closeFailure = e;
            }
            runner.join(30_000);
            Throwable reopen = null;
            try (UserRingBuffer again = UserRingBuffer.of(o.map("user_rb"))) {
                assertNotNull(again);
            } catch (Throwable e) {
                reopen = e;
            }
            Throwable c = closeFailure;
            Throwable r = reopen;
            assertAll(() -> assertNull(c, "close() threw " + c),
                    () -> assertNull(r, "reopening the map after close failed: " + r));
        }
    }
}
