package dev.panbpf.ringbuf;

import dev.panbpf.BpfException;
import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The consumer protocol over a ring the test writes itself ({@link FakeRing}): the states a kernel producer goes
 * through but will not hold still for a test (a BUSY head), and corruption it never produces. The same consumer
 * code reads the real kernel rings in {@link RingBufferKernelTest}.
 */
class RingReaderTest {
    private static final int SIZE = 4096;

    /** Collects copies of what it is handed. */
    private static final class Collector implements RecordHandler {
        final List<byte[]> records = new ArrayList<>();

        @Override
        public boolean onRecord(MemorySegment record) {
            records.add(record.toArray(ValueLayout.JAVA_BYTE));
            return true;
        }
    }

    @Test
    void deliversEveryRecordOnceInOrderWithItsBytes() {
        try (FakeRing ring = new FakeRing(SIZE)) {
            RingReader reader = ring.reader();
            List<byte[]> sent = new ArrayList<>();
            int[] sizes = {1, 7, 8, 9, 16, 24, 100, 1000};
            for (int i = 0; i < sizes.length; i++) {
                sent.add(FakeRing.payload(i, sizes[i]));
                ring.submit(sent.get(i));
            }
            Collector c = new Collector();
            assertEquals(sizes.length, reader.drain(c, Integer.MAX_VALUE));
            assertEquals(sizes.length, c.records.size());
            for (int i = 0; i < sizes.length; i++) {
                assertArrayEquals(sent.get(i), c.records.get(i), "record " + i);
            }
            assertEquals(ring.producerPos, ring.consumerPos(), "consumer position published at the end");
            assertEquals(0, reader.drain(c, Integer.MAX_VALUE), "nothing is delivered twice");
            assertEquals(sizes.length, reader.delivered());
        }
    }

    @Test
    void deliversARecordThatWrapsTheEndAsOneContiguousSlice() {
        try (FakeRing ring = new FakeRing(SIZE)) {
            ring.startAt(3 * SIZE - 48);                    // 48 bytes before the end of the data area
            RingReader reader = ring.reader();
            byte[] wrapping = FakeRing.payload(7, 200);     // header at end - 48, payload runs 160 bytes past the end
            byte[] after = FakeRing.payload(8, 16);
            ring.submit(wrapping);
            ring.submit(after);
            List<MemorySegment> slices = new ArrayList<>();
            Collector c = new Collector();
            reader.drain(r -> {
                slices.add(r);
                return c.onRecord(r);
            }, Integer.MAX_VALUE);
            assertEquals(2, c.records.size());
            assertArrayEquals(wrapping, c.records.get(0));
            assertArrayEquals(after, c.records.get(1));
            // The wrapping record is one slice of the mapping that crosses into the second copy of the data pages.
            long start = slices.get(0).address() - ring.data.address();
            assertEquals(SIZE - 40, start);
            assertTrue(start + 200 > SIZE);
        }
    }

    @Test
    void stopsAtABusyRecordAndKeepsTheOnesAfterItInOrder() {
        try (FakeRing ring = new FakeRing(SIZE)) {
            RingReader reader = ring.reader();
            ring.submit(FakeRing.payload(1, 16));
            long busy = ring.reserve(16);                  // the producer is still writing this one
            ring.submit(FakeRing.payload(3, 16));           // committed, but behind the busy one
            Collector c = new Collector();
            assertEquals(1, reader.drain(c, Integer.MAX_VALUE));
            assertEquals(busy, ring.consumerPos(), "stops exactly at the busy record");
            assertEquals(RingReader.HEAD_BUSY, reader.readiness(), "a busy head: its commit wakes the consumer");
            assertEquals(0, reader.drain(c, Integer.MAX_VALUE), "still busy: nothing, and no spinning past it");

            ring.fill(busy, FakeRing.payload(2, 16));
            ring.commit(busy, false);
            assertEquals(RingReader.WORK, reader.readiness(), "a committed head must be read before sleeping");
            assertEquals(2, reader.drain(c, Integer.MAX_VALUE));
            for (int i = 0; i < 3; i++) {
                assertEquals(i + 1, c.records.get(i)[0]);
            }
            assertEquals(RingReader.EMPTY, reader.readiness());
        }
    }

    @Test
    void skipsDiscardedRecordsAndCountsThem() {
        try (FakeRing ring = new FakeRing(SIZE)) {
            RingReader reader = ring.reader();
            ring.submit(FakeRing.payload(1, 8));
            ring.discard(100);
            ring.discard(8);
            ring.submit(FakeRing.payload(4, 8));
            Collector c = new Collector();
            assertEquals(2, reader.drain(c, Integer.MAX_VALUE));
            assertEquals(1, c.records.get(0)[0]);
            assertEquals(4, c.records.get(1)[0]);
            assertEquals(2, reader.discarded());
            assertEquals(2, reader.delivered());
            assertEquals(ring.producerPos, ring.consumerPos(), "discarded records are consumed too");
        }
    }

    @Test
    void aPassOfOnlyDiscardedRecordsStillMovesTheConsumerPosition() {
        try (FakeRing ring = new FakeRing(SIZE)) {
            RingReader reader = ring.reader();
            ring.discard(32);
            assertEquals(0, reader.drain(new Collector(), Integer.MAX_VALUE));
            assertEquals(ring.producerPos, ring.consumerPos());
            assertEquals(RingReader.EMPTY, reader.readiness());
        }
    }

    @Test
    void aHandlerReturningFalseStopsAfterItsRecordAndTheRestStay() {
        try (FakeRing ring = new FakeRing(SIZE)) {
            RingReader reader = ring.reader();
            for (int i = 0; i < 5; i++) {
                ring.submit(FakeRing.payload(i, 8));
            }
            List<Byte> seen = new ArrayList<>();
            assertEquals(2, reader.drain(r -> {
                seen.add(r.get(ValueLayout.JAVA_BYTE, 0));
                return seen.size() < 2;
            }, Integer.MAX_VALUE));
            assertTrue(reader.stopped());
            Collector c = new Collector();
            assertEquals(3, reader.drain(c, Integer.MAX_VALUE));
            assertFalse(reader.stopped());
            assertEquals(List.of((byte) 0, (byte) 1), seen);
            assertEquals(2, c.records.get(0)[0]);
        }
    }

    @Test
    void aLimitBoundsAPassAndDiscardsDoNotCountTowardIt() {
        try (FakeRing ring = new FakeRing(SIZE)) {
            RingReader reader = ring.reader();
            ring.discard(8);
            for (int i = 0; i < 5; i++) {
                ring.submit(FakeRing.payload(i, 8));
            }
            Collector c = new Collector();
            assertEquals(2, reader.drain(c, 2));
            assertEquals(3, reader.drain(c, 10));
            assertEquals(0, reader.drain(c, 0));
            assertEquals(5, c.records.size());
            assertEquals(4, c.records.get(4)[0]);
        }
    }

    @Test
    void aPassEndsAtTheProducerPositionItStartedWith() {
        try (FakeRing ring = new FakeRing(SIZE)) {
            RingReader reader = ring.reader();
            ring.submit(FakeRing.payload(1, 8));
            // The handler plays a producer that keeps publishing: the pass must still end.
            int n = reader.drain(r -> {
                ring.submit(FakeRing.payload(2, 8));
                return true;
            }, Integer.MAX_VALUE);
            assertEquals(1, n);
            assertEquals(1, reader.drain(new Collector(), Integer.MAX_VALUE));
        }
    }

    @Test
    void aThrowingHandlerConsumesItsRecordAndLeavesTheRingConsistent() {
        try (FakeRing ring = new FakeRing(SIZE)) {
            RingReader reader = ring.reader();
            for (int i = 0; i < 3; i++) {
                ring.submit(FakeRing.payload(i, 8));
            }
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> reader.drain(r -> {
                if (r.get(ValueLayout.JAVA_BYTE, 0) == 1) {
                    throw new IllegalStateException("handler failed");
                }
                return true;
            }, Integer.MAX_VALUE));
            assertEquals("handler failed", e.getMessage());
            assertEquals(2, reader.delivered(), "records 0 and 1 were handed out");
            Collector c = new Collector();
            assertEquals(1, reader.drain(c, Integer.MAX_VALUE), "the next pass resumes after the failed record");
            assertEquals(2, c.records.get(0)[0]);
        }
    }

    @Test
    void recordsAreReadOnly() {
        try (FakeRing ring = new FakeRing(SIZE)) {
            ring.submit(FakeRing.payload(1, 8));
            ring.reader().drain(r -> {
                assertTrue(r.isReadOnly());
                // JDK 22 throws UnsupportedOperationException, later ones IllegalArgumentException: never a fault.
                RuntimeException e = assertThrows(RuntimeException.class, () -> r.set(ValueLayout.JAVA_BYTE, 0,
                        (byte) 9));
                assertTrue(e.getMessage().contains("read-only"), e.getMessage());
                return true;
            }, Integer.MAX_VALUE);
        }
    }

    @Test
    void aLengthRunningPastTheProducerIsCorruptionAndNothingOfItIsRead() {
        try (FakeRing ring = new FakeRing(SIZE)) {
            RingReader reader = ring.reader();
            ring.submit(FakeRing.payload(1, 8));
            long bad = ring.submit(FakeRing.payload(2, 8));
            ring.writeHeader(bad, 0x3FFF_FFF0);             // ~1 GiB claimed in a 4 KiB ring
            Collector c = new Collector();
            BpfException e = assertThrows(BpfException.class, () -> reader.drain(c, Integer.MAX_VALUE));
            assertTrue(e.getMessage().contains("corrupt") && e.getMessage().contains("position " + bad),
                    e.getMessage());
            assertEquals(1, c.records.size(), "the good record before it was delivered");
            assertEquals(bad, ring.consumerPos(), "and consumed; the bad one was not");
            // Calling again fails again at once rather than spinning or reading out of bounds.
            assertThrows(BpfException.class, () -> reader.drain(c, Integer.MAX_VALUE));
        }
    }

    @Test
    void aProducerPositionGoingBackwardsIsCorruption() {
        try (FakeRing ring = new FakeRing(SIZE)) {
            RingReader reader = ring.reader();
            ring.submit(FakeRing.payload(1, 8));
            ring.submit(FakeRing.payload(2, 8));
            reader.drain(new Collector(), 1);
            ring.setProducerPos(0);
            BpfException e = assertThrows(BpfException.class, () -> reader.drain(new Collector(), 10));
            assertTrue(e.getMessage().contains("went back"), e.getMessage());
        }
    }

    @Test
    void aProducerMoreThanOneRingAheadIsCorruption() {
        try (FakeRing ring = new FakeRing(SIZE)) {
            RingReader reader = ring.reader();
            ring.setProducerPos(SIZE + 8);
            BpfException e = assertThrows(BpfException.class, () -> reader.drain(new Collector(), 10));
            assertTrue(e.getMessage().contains("more than the ring size"), e.getMessage());
            ring.setProducerPos(12);
            e = assertThrows(BpfException.class, () -> reader.drain(new Collector(), 10));
            assertTrue(e.getMessage().contains("not 8-byte aligned"), e.getMessage());
        }
    }

    @Test
    void aConsumerPositionMovedBySomeoneElseIsRefused() {
        try (FakeRing ring = new FakeRing(SIZE)) {
            RingReader reader = ring.reader();
            ring.submit(FakeRing.payload(1, 8));
            ring.submit(FakeRing.payload(2, 8));
            ring.consumerPage.set(ValueLayout.JAVA_LONG, 0, 16L);   // a second consumer took record 1
            BpfException e = assertThrows(BpfException.class, () -> reader.drain(new Collector(), 10));
            assertTrue(e.getMessage().contains("something else consumes this ring"), e.getMessage());
        }
    }

    @Test
    void startsWhereTheConsumerPageSays() {
        try (FakeRing ring = new FakeRing(SIZE)) {
            ring.startAt(10 * SIZE + 64);
            ring.submit(FakeRing.payload(5, 8));
            Collector c = new Collector();
            assertEquals(1, ring.reader().drain(c, 10));
            assertEquals(5, c.records.get(0)[0]);
        }
    }

    @Test
    void fillsTheWholeRingAndDrainsItAcrossTheEndManyTimes() {
        try (FakeRing ring = new FakeRing(SIZE)) {
            RingReader reader = ring.reader();
            Collector c = new Collector();
            long id = 0;
            int[] sizes = {8, 13, 40, 256, 1000, 3};
            for (int round = 0; round < 50; round++) {
                // Fill as the kernel would: never more than size - 8 bytes outstanding.
                int k = 0;
                while (true) {
                    int len = sizes[(int) ((id + k) % sizes.length)];
                    if (ring.producerPos + RingLayout.stride(len) - ring.consumerPos() > SIZE - 8) {
                        break;
                    }
                    ring.submit(FakeRing.payload(id + k, len));
                    k++;
                }
                int got = reader.drain(c, Integer.MAX_VALUE);
                assertEquals(k, got);
                for (int i = 0; i < k; i++) {
                    long want = id + i;
                    assertArrayEquals(FakeRing.payload(want, sizes[(int) (want % sizes.length)]),
                            c.records.get(c.records.size() - k + i), "record " + want);
                }
                id += k;
            }
            assertTrue(ring.producerPos > 40L * SIZE, "went round the ring many times");
        }
    }
}
