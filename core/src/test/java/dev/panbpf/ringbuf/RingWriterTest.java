package dev.panbpf.ringbuf;

import dev.panbpf.BpfException;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;

import static dev.panbpf.testing.Threads.start;
import static org.junit.jupiter.api.Assertions.*;

/**
 * The producer half of the protocol, over a fake user ring in ordinary memory where the test plays the kernel's
 * consumer: what reserve and commit leave in the header and positions, room and wrapping, samples that are not
 * pending, corrupt positions, and what a closing writer leaves behind. Needs no kernel.
 */
class RingWriterTest {
    private static final int SIZE = 4096;

    @Test
    void reserveWritesABusyHeaderBeforeItPublishesTheProducerPosition() {
        try (FakeRing ring = new FakeRing(SIZE)) {
            ring.data.set(ValueLayout.JAVA_INT, 4, 0xDEAD);            // an old pg_off, left by an earlier sample
            RingWriter writer = ring.writer();
            MemorySegment sample = writer.tryReserve(20);
            assertNotNull(sample);
            assertEquals(20, sample.byteSize());
            assertEquals(ring.data.address() + RingLayout.HEADER_SIZE, sample.address(),
                    "the payload follows its header");
            assertEquals(20 | RingLayout.BUSY_BIT, ring.header(0));
            assertEquals(0, ring.data.get(ValueLayout.JAVA_INT, 4), "pg_off cleared");
            assertEquals(32, producerPos(ring), "8-byte header + 20 bytes, rounded up to 8");
            assertEquals(32, writer.producerPosition());
            assertEquals(SIZE - 32, writer.freeBytes());
        }
    }

    @Test
    void emptySamplesTakeAHeaderAndOddSizesRoundUpToEightBytes() {
        try (FakeRing ring = new FakeRing(SIZE)) {
            RingWriter writer = ring.writer();
            long[] expected = {8, 24, 48, 72};
            int[] sizes = {0, 1, 15, 16};
            for (int i = 0; i < sizes.length; i++) {
                assertNotNull(writer.tryReserve(sizes[i]));
                assertEquals(expected[i], producerPos(ring), "after a sample of " + sizes[i] + " bytes");
            }
        }
    }

    @Test
    void aWriterStartsWhereTheProducerPageSays() {
        try (FakeRing ring = new FakeRing(SIZE)) {
            ring.startAt(5 * SIZE + 64);                                // a map written through before
            MemorySegment sample = ring.writer().tryReserve(8);
            assertEquals(ring.data.address() + 64 + RingLayout.HEADER_SIZE, sample.address());
            assertEquals(5 * SIZE + 80, producerPos(ring));
        }
    }

    @Test
    void aFullRingGivesNullUntilTheKernelDrainsRoomForTheWholeStride() {
        try (FakeRing ring = new FakeRing(SIZE)) {
            RingWriter writer = ring.writer();
            assertNotNull(writer.tryReserve(SIZE - 16 - 8));             // leaves exactly 16 bytes
            assertNull(writer.tryReserve(9), "a 24-byte stride does not fit in 16");
            assertNotNull(writer.tryReserve(8));                         // takes them: the ring is full
            assertEquals(0, writer.freeBytes());
            assertNull(writer.tryReserve(0), "not even a header fits");
            ring.setConsumerPos(128);                                    // the kernel drained 128 bytes
            assertNull(writer.tryReserve(121), "a sample one stride too big");
            assertNotNull(writer.tryReserve(120));
            assertEquals(120 | RingLayout.BUSY_BIT, ring.header(SIZE), "at the start of the ring again");
            assertEquals(SIZE + 128, producerPos(ring));
            assertEquals(0, writer.freeBytes());
        }
    }

    @Test
    void aSampleRunningPastTheEndIsOneRunOfBytesIntoTheSecondMapping() {
        try (FakeRing ring = new FakeRing(SIZE)) {
            ring.startAt(SIZE - 16);
            RingWriter writer = ring.writer();
            MemorySegment wrapped = writer.tryReserve(120);
            assertNotNull(wrapped);
            assertEquals(ring.data.address() + SIZE - 8, wrapped.address());
            assertEquals(120, wrapped.byteSize());
            wrapped.set(ValueLayout.JAVA_LONG, 112, 42L);                // its last bytes lie past the end
            assertEquals(120 | RingLayout.BUSY_BIT, ring.header(SIZE - 16));
            assertEquals(SIZE - 16 + 128, producerPos(ring));
        }
    }

    @Test
    void submitClearsBusyOnceAndDiscardSetsTheDiscardBit() {
        try (FakeRing ring = new FakeRing(SIZE)) {
            RingWriter writer = ring.writer();
            MemorySegment a = writer.tryReserve(20);
            MemorySegment b = writer.tryReserve(8);
            assertTrue(writer.commit(a, false));
            assertEquals(20, ring.header(0), "BUSY cleared, length kept");
            assertFalse(writer.commit(a, false), "a sample is committed once");
            assertFalse(writer.commit(a, true), "and cannot be discarded after it was submitted");
            assertTrue(writer.commit(b, true));
            assertEquals(8 | RingLayout.DISCARD_BIT, ring.header(32));
            assertEquals(1, writer.submitted());
            assertEquals(1, writer.discarded());
        }
    }

    @Test
    void onlyASegmentReserveReturnedCanBeCommitted() {
        try (FakeRing ring = new FakeRing(SIZE); Arena arena = Arena.ofConfined()) {
            RingWriter writer = ring.writer();
            MemorySegment sample = writer.tryReserve(32);
            assertFalse(writer.commit(sample.asSlice(0, 16), false), "a shorter slice is not the sample");
            assertFalse(writer.commit(sample.asSlice(8), false), "nor is one starting in its payload");
            assertThrows(IllegalArgumentException.class, () -> writer.commit(sample.asSlice(4), false),
                    "nor a segment off a record boundary");
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> writer.commit(arena.allocate(32), false));
            assertTrue(e.getMessage().contains("not a sample reserved from user ring buffer 'fake'"), e.getMessage());
            assertEquals(32 | RingLayout.BUSY_BIT, ring.header(0), "none of them touched the pending sample");
            assertTrue(writer.commit(sample, false));
            assertEquals(0, writer.discarded());
        }
    }

    @Test
    void aConsumerPositionThatDoesNotFitTheRingIsReportedAsCorrupt() {
        long[] bad = {72, 3, 64 - SIZE - 8};                        // ahead of us, unaligned, over a ring behind
        for (long consumer : bad) {
            try (FakeRing ring = new FakeRing(SIZE)) {
                RingWriter writer = ring.writer();
                writer.tryReserve(56);                               // producer_pos 64
                ring.setConsumerPos(consumer);
                BpfException e = assertThrows(BpfException.class, () -> writer.tryReserve(8), "consumer " + consumer);
                assertTrue(e.getMessage().contains("is corrupt"), e.getMessage());
                assertEquals(64, producerPos(ring), "nothing reserved past the bad position");
            }
        }
    }

    @Test
    void discardPendingDropsWhatIsStillReservedAndLeavesCommittedSamples() {
        try (FakeRing ring = new FakeRing(SIZE)) {
            RingWriter writer = ring.writer();
            MemorySegment a = writer.tryReserve(8);
            MemorySegment b = writer.tryReserve(16);
            writer.tryReserve(24);
            writer.commit(b, false);
            assertEquals(2, writer.discardPending());
            assertEquals(8 | RingLayout.DISCARD_BIT, ring.header(0));
            assertEquals(16, ring.header(16), "the submitted sample stays for the kernel");
            assertEquals(24 | RingLayout.DISCARD_BIT, ring.header(40));
            assertFalse(writer.commit(a, false), "a sample close discarded cannot be submitted after it");
            assertEquals(0, writer.discardPending(), "nothing is pending any more");
            assertEquals(0, writer.discarded(), "close's discards are not the caller's");
        }
    }

    @Test
    void discardPendingTouchesNothingWhenThePositionsMakeNoSense() {
        try (FakeRing ring = new FakeRing(SIZE)) {
            RingWriter writer = ring.writer();
            writer.tryReserve(8);
            ring.setConsumerPos(1024);                                  // past what we ever reserved
            assertEquals(0, writer.discardPending());
            assertEquals(8 | RingLayout.BUSY_BIT, ring.header(0));
        }
    }

    @Test
    void aCommitRacingDiscardPendingClearsBusyExactlyOnce() throws Exception {
        for (int round = 0; round < 200; round++) {
            try (FakeRing ring = new FakeRing(SIZE)) {
                RingWriter writer = ring.writer();
                List<MemorySegment> samples = new ArrayList<>();
                for (int i = 0; i < 50; i++) {
                    samples.add(writer.tryReserve(32));
                }
                CountDownLatch go = new CountDownLatch(1);
                AtomicInteger committed = new AtomicInteger();
                Thread submitter = start("submitter", () -> {
                    try {
                        go.await();
                    } catch (InterruptedException e) {
                        return;
                    }
                    for (MemorySegment s : samples) {
                        if (writer.commit(s, false)) {
                            committed.incrementAndGet();
                        }
                    }
                });
                go.countDown();
                long dropped = writer.discardPending();
                submitter.join(5000);
                assertEquals(50, committed.get() + dropped, "round " + round + ": a sample committed twice or never");
                for (long pos = 0; pos < 50 * 40; pos += 40) {
                    assertEquals(0, ring.header(pos) & RingLayout.BUSY_BIT, "round " + round + ": BUSY left at " + pos);
                }
            }
        }
    }

    private static long producerPos(FakeRing ring) {
        return ring.producerPage.get(ValueLayout.JAVA_LONG, 0);
    }
}
