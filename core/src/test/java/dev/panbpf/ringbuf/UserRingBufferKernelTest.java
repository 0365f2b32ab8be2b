package dev.panbpf.ringbuf;

import dev.panbpf.BpfMap;
import dev.panbpf.BpfObject;
import dev.panbpf.BufferClosedException;
import dev.panbpf.bpf.BpfPrograms;
import dev.panbpf.testing.BlockedCall;
import dev.panbpf.testing.Kernel;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.time.Duration;

import static org.junit.jupiter.api.Assertions.*;

/**
 * UserRingBuffer with a real consumer: the bpf-src program {@code user_ringbuf.bpf.c} drains the ring with
 * bpf_user_ringbuf_drain when the test runs it, checks each sample's length and bytes, and sums what it saw.
 */
class UserRingBufferKernelTest {
    private static final int SMALL = 4 * 4096;

    @BeforeAll
    static void root() {
        Kernel.requireRoot();
    }

    /** The drain program, its ring and its struct drain_totals. */
    private static final class Drainer implements AutoCloseable {
        final BpfObject object;
        final MemorySegment packet = Arena.ofAuto().allocate(64);

        Drainer(int ringSize) {
            object = BpfObject.open(BpfPrograms.bytes("user_ringbuf.bpf.o"), "user_ringbuf");
            try {
                object.setMaxEntries("user_rb", ringSize).load();
            } catch (RuntimeException e) {
                object.close();
                throw e;
            }
        }

        BpfMap ring() {
            return object.map("user_rb");
        }

        /** Runs the program once: one bpf_user_ringbuf_drain. */
        void drain() {
            object.program("drain").testRun(packet, 1);
        }

        /** Field {@code index} of struct drain_totals (drains, last_ret, samples, value_sum, bytes, bad, ...). */
        long total(int index) {
            try (Arena a = Arena.ofConfined()) {
                MemorySegment v = a.allocate(64);
                object.map("totals").lookup(a.allocateFrom(ValueLayout.JAVA_INT, 0), v);
                return v.get(ValueLayout.JAVA_LONG, index * 8L);
            }
        }

        long lastReturn() {
            return total(1);
        }

        long samples() {
            return total(2);
        }

        long valueSum() {
            return total(3);
        }

        long bytes() {
            return total(4);
        }

        long bad() {
            return total(5);
        }

        long outOfOrder() {
            return total(6);
        }

        @Override
        public void close() {
            object.close();
        }
    }

    /** Fills {@code sample} as the drain program expects: value, size, then bytes (value + i). */
    private static void fill(MemorySegment sample, long value) {
        sample.set(ValueLayout.JAVA_LONG, 0, value);
        sample.set(ValueLayout.JAVA_INT, 8, (int) sample.byteSize());
        sample.set(ValueLayout.JAVA_INT, 12, 0);
        for (int i = 16; i < sample.byteSize(); i++) {
            sample.set(ValueLayout.JAVA_BYTE, i, (byte) (value + i));
        }
    }

    @Test
    void theBpfSideGetsEverySampleOnceInOrderWithItsBytesAlsoAcrossTheEnd() {
        try (Drainer drainer = new Drainer(SMALL); UserRingBuffer ring = UserRingBuffer.of(drainer.ring())) {
            int[] sizes = {16, 17, 100, 1000, 3000, 24, 4096, 333};
            long value = 0;
            long sum = 0;
            long bytes = 0;
            for (int round = 0; round < 12; round++) {
                int inRound = 0;
                MemorySegment s;
                while ((s = ring.reserve(sizes[(int) (value % sizes.length)])) != null) {
                    fill(s, value);
                    ring.submit(s);
                    sum += value;
                    bytes += s.byteSize();
                    value++;
                    inRound++;
                }
                assertTrue(inRound > 0);
                drainer.drain();
                assertEquals(inRound, drainer.lastReturn(), "round " + round + ": drained all that was submitted");
                assertEquals(ring.producerPosition(), ring.consumerPosition());
            }
            assertTrue(ring.producerPosition() > 5L * SMALL, "went round the ring several times");
            assertEquals(value, drainer.samples());
            assertEquals(value, ring.submitted());
            assertEquals(sum, drainer.valueSum());
            assertEquals(bytes, drainer.bytes());
            assertEquals(0, drainer.bad(), "every sample had exactly its length and the right bytes");
            assertEquals(0, drainer.outOfOrder());
        }
    }

    @Test
    void discardedSamplesNeverReachTheProgram() {
        try (Drainer drainer = new Drainer(SMALL); UserRingBuffer ring = UserRingBuffer.of(drainer.ring())) {
            MemorySegment first = ring.reserve(32);
            fill(first, 0);
            ring.submit(first);
            MemorySegment dropped = ring.reserve(64);
            fill(dropped, 1000);
            ring.discard(dropped);
            MemorySegment second = ring.reserve(16);
            fill(second, 1);
            ring.submit(second);
            drainer.drain();
            assertEquals(2, drainer.samples());
            assertEquals(1, drainer.valueSum());
            assertEquals(0, drainer.outOfOrder());
            assertEquals(2, drainer.lastReturn());
            assertEquals(ring.producerPosition(), ring.consumerPosition(), "the discarded space was freed too");
        }
    }

    @Test
    void aSampleNotYetSubmittedHoldsBackTheOnesAfterIt() {
        try (Drainer drainer = new Drainer(SMALL); UserRingBuffer ring = UserRingBuffer.of(drainer.ring())) {
            MemorySegment slow = ring.reserve(40);
            MemorySegment fast = ring.reserve(40);
            fill(fast, 1);
            ring.submit(fast);
            drainer.drain();
            assertEquals(0, drainer.samples(), "the head is still being written");
            fill(slow, 0);
            ring.submit(slow);
            drainer.drain();
            assertEquals(2, drainer.samples());
            assertEquals(0, drainer.outOfOrder(), "and they arrive in reservation order");
        }
    }

    @Test
    void aReserveWaitingForRoomWakesWhenTheProgramDrains() throws Exception {
        try (Drainer drainer = new Drainer(SMALL); UserRingBuffer ring = UserRingBuffer.of(drainer.ring())) {
            MemorySegment big = ring.reserve(SMALL / 2);
            fill(big, 0);
            ring.submit(big);
            MemorySegment rest = ring.reserve((int) ring.freeBytes() - 8);
            fill(rest, 1);
            ring.submit(rest);
            assertEquals(0, ring.freeBytes());
            BlockedCall<MemorySegment> blocked = BlockedCall.start("reserve",
                    () -> ring.reserve(1000, Duration.ofSeconds(10)));
            long t0 = System.nanoTime();
            drainer.drain();
            MemorySegment got = blocked.get();
            assertNotNull(got, "room appeared");
            assertTrue(blocked.millisSince(t0) < 2_000, "woken after " + blocked.millisSince(t0) + " ms");
            fill(got, 2);
            ring.submit(got);
            drainer.drain();
            assertEquals(3, drainer.samples());
            assertEquals(0, drainer.bad());
        }
    }

    @Test
    void closingWithASampleReservedDiscardsItSoTheRingKeepsDraining() {
        try (Drainer drainer = new Drainer(SMALL)) {
            UserRingBuffer first = UserRingBuffer.of(drainer.ring());
            MemorySegment submitted = first.reserve(32);
            fill(submitted, 7);
            first.submit(submitted);
            MemorySegment forgotten = first.reserve(32);      // reserved, never submitted
            assertNotNull(forgotten);
            first.close();
            assertEquals(1, first.droppedAtClose(), "the pending sample was discarded and counted");
            assertThrows(BufferClosedException.class, () -> first.submit(forgotten),
                    "submitting after close is the closed error, not a write into an unmapped ring");

            try (UserRingBuffer second = UserRingBuffer.of(drainer.ring())) {
                MemorySegment later = second.reserve(32);
                fill(later, 11);
                second.submit(later);
                drainer.drain();
                assertEquals(2, drainer.lastReturn(), "both submitted samples drain; the discarded one is skipped");
                assertEquals(18, drainer.valueSum());
                assertEquals(second.producerPosition(), second.consumerPosition(), "nothing left stuck");
            }
        }
    }

    @Test
    void everyCallOnAClosedUserRingThrowsTheClosedError() {
        try (Drainer drainer = new Drainer(SMALL)) {
            UserRingBuffer ring = UserRingBuffer.of(drainer.ring());
            ring.close();
            assertThrows(BufferClosedException.class, () -> ring.reserve(8));
            assertThrows(BufferClosedException.class, () -> ring.reserve(8, Duration.ofMillis(10)));
            assertThrows(BufferClosedException.class, ring::freeBytes);
            assertThrows(BufferClosedException.class, ring::producerPosition);
            assertThrows(BufferClosedException.class, ring::consumerPosition);
            ring.close();                                    // idempotent
        }
    }
}
