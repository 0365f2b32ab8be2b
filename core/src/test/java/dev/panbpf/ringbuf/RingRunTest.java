package dev.panbpf.ringbuf;

import dev.panbpf.BpfException;
import org.junit.jupiter.api.Test;

import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The reader's fast path over runs of records of one length ({@link RingReader#drain}): every way a run can end
 * (another length, a BUSY or discarded record of the same length, the producer position, a limit, a handler that
 * stops or throws, the end of the ring) delivers exactly what the general step would, and the consumer position
 * is published at least every {@link RingReader#RETURN_EVERY} records, never past a record whose handler runs.
 */
class RingRunTest {
    private static final int SIZE = 1 << 16;

    /** Submits {@code count} records of {@code length} bytes with ids from {@code firstId} on. */
    private static void submit(FakeRing ring, long firstId, int count, int length) {
        for (int i = 0; i < count; i++) {
            ring.submit(FakeRing.payload(firstId + i, length));
        }
    }

    private static long id(java.lang.foreign.MemorySegment r) {
        return r.get(ValueLayout.JAVA_LONG_UNALIGNED, 0);
    }

    @Test
    void runsOfOneLengthBrokenByOtherLengthsArriveWholeAndInOrder() {
        try (FakeRing ring = new FakeRing(SIZE)) {
            RingReader reader = ring.reader();
            submit(ring, 0, 150, 16);
            submit(ring, 150, 3, 24);
            submit(ring, 153, 1, 17);
            submit(ring, 154, 100, 16);
            List<byte[]> got = new ArrayList<>();
            assertEquals(254, reader.drain(r -> got.add(r.toArray(ValueLayout.JAVA_BYTE)), Integer.MAX_VALUE));
            for (int i = 0; i < 254; i++) {
                int length = i < 150 ? 16 : i < 153 ? 24 : i == 153 ? 17 : 16;
                assertArrayEquals(FakeRing.payload(i, length), got.get(i), "record " + i);
            }
            assertEquals(ring.producerPos, ring.consumerPos());
        }
    }

    @Test
    void aBusyRecordOfTheSameLengthEndsTheRunExactlyThere() {
        try (FakeRing ring = new FakeRing(SIZE)) {
            RingReader reader = ring.reader();
            submit(ring, 0, 10, 16);
            long busy = ring.reserve(16);
            ring.fill(busy, FakeRing.payload(10, 16));
            submit(ring, 11, 5, 16);
            List<Long> ids = new ArrayList<>();
            assertEquals(10, reader.drain(r -> ids.add(id(r)), Integer.MAX_VALUE));
            assertEquals(busy, ring.consumerPos());
            ring.commit(busy, false);
            assertEquals(6, reader.drain(r -> ids.add(id(r)), Integer.MAX_VALUE));
            for (int i = 0; i < 16; i++) {
                assertEquals(i, ids.get(i));
            }
        }
    }

    @Test
    void aDiscardedRecordOfTheSameLengthInsideARunIsSkipped() {
        try (FakeRing ring = new FakeRing(SIZE)) {
            RingReader reader = ring.reader();
            submit(ring, 0, 10, 16);
            ring.discard(16);
            submit(ring, 10, 10, 16);
            List<Long> ids = new ArrayList<>();
            assertEquals(20, reader.drain(r -> ids.add(id(r)), Integer.MAX_VALUE));
            assertEquals(1, reader.discarded());
            for (int i = 0; i < 20; i++) {
                assertEquals(i, ids.get(i));
            }
        }
    }

    @Test
    void aRunAcrossTheEndOfTheRingStaysInOrder() {
        try (FakeRing ring = new FakeRing(SIZE)) {
            ring.startAt(5L * SIZE - 10 * 48);                // ten 40-byte records before the end
            RingReader reader = ring.reader();
            submit(ring, 0, 50, 40);
            List<byte[]> got = new ArrayList<>();
            assertEquals(50, reader.drain(r -> got.add(r.toArray(ValueLayout.JAVA_BYTE)), Integer.MAX_VALUE));
            for (int i = 0; i < 50; i++) {
                assertArrayEquals(FakeRing.payload(i, 40), got.get(i), "record " + i);
            }
        }
    }

    @Test
    void aLimitAStopOrAThrowInsideARunLeavesTheRestForTheNextPass() {
        try (FakeRing ring = new FakeRing(SIZE)) {
            RingReader reader = ring.reader();
            submit(ring, 0, 100, 8);
            List<Long> ids = new ArrayList<>();
            assertEquals(7, reader.drain(r -> ids.add(id(r)), 7));
            assertEquals(7L * 16, ring.consumerPos(), "the limit ends the pass after record 6");
            assertEquals(13, reader.drain(r -> ids.add(id(r)) && ids.size() < 20, Integer.MAX_VALUE));
            assertEquals(20L * 16, ring.consumerPos(), "the stop ends the pass after its record");
            assertThrows(IllegalStateException.class, () -> reader.drain(r -> {
                ids.add(id(r));
                if (ids.size() == 30) {
                    throw new IllegalStateException("handler failed");
                }
                return true;
            }, Integer.MAX_VALUE));
            assertEquals(30L * 16, ring.consumerPos(), "the record the handler threw on is consumed, no more");
            assertEquals(70, reader.drain(r -> ids.add(id(r)), Integer.MAX_VALUE));
            for (int i = 0; i < 100; i++) {
                assertEquals(i, ids.get(i));
            }
        }
    }

    @Test
    void aRecordOfTheRunsLengthThatPassesTheProducerIsCorruption() {
        try (FakeRing ring = new FakeRing(SIZE)) {
            RingReader reader = ring.reader();
            submit(ring, 0, 10, 16);                        // stride 24
            ring.setProducerPos(ring.producerPos - 8);      // the last record now ends past the producer
            List<Long> ids = new ArrayList<>();
            BpfException e = assertThrows(BpfException.class, () -> reader.drain(r -> ids.add(id(r)),
                    Integer.MAX_VALUE));
            assertTrue(e.getMessage().contains("running past the producer position"), e.getMessage());
            assertEquals(9, ids.size(), "the records before it were delivered, it was not");
            assertEquals(9L * 24, ring.consumerPos());
        }
    }

    @Test
    void theConsumerPositionIsPublishedEvery64RecordsDiscardsIncludedAndNeverPastTheHandlersRecord() {
        try (FakeRing ring = new FakeRing(SIZE)) {
            RingReader reader = ring.reader();
            List<Long> positions = new ArrayList<>();      // the record's own position, then what was published
            for (int i = 0; i < 300; i++) {
                if (i % 7 == 3) {
                    ring.discard(8);
                } else {
                    ring.submit(FakeRing.payload(i, i % 50 < 25 ? 8 : 8 + 8 * (i % 3)));
                }
            }
            List<Long> starts = new ArrayList<>();
            reader.drain(r -> {
                starts.add(r.address() - ring.data.address() - RingLayout.HEADER_SIZE);
                positions.add(ring.consumerPos());
                return true;
            }, Integer.MAX_VALUE);
            // Walk the ring again to know each record's position and index among all records (discards too).
            List<Long> all = new ArrayList<>();
            for (long pos = 0; pos < ring.producerPos; ) {
                all.add(pos);
                pos += RingLayout.stride(ring.header(pos) & RingLayout.LENGTH_MASK);
            }
            for (int k = 0; k < starts.size(); k++) {
                long pos = starts.get(k);
                int index = all.indexOf(pos);
                long published = positions.get(k);
                assertTrue(published <= pos, "record at " + pos + " was given back before its handler ran");
                int givenBack = all.indexOf(published);
                assertTrue(givenBack >= index - RingReader.RETURN_EVERY + 1, "while the handler of record "
                        + index + " ran, only " + givenBack + " records were given back");
            }
            assertEquals(ring.producerPos, ring.consumerPos());
        }
    }
}
