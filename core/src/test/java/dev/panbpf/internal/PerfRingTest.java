package dev.panbpf.internal;

import dev.panbpf.BpfException;
import dev.panbpf.PerfBuffer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static org.junit.jupiter.api.Assertions.*;

/**
 * The perf record parser over rings this test writes itself, byte for byte as the kernel would: samples with and
 * without time, LOST records, unknown types, records that wrap the end, padding, corrupt records. No kernel needed.
 */
class PerfRingTest {
    private static final int DATA = 256;
    private static final byte STALE = (byte) 0xEE;

    private final Arena arena = Arena.ofConfined();
    private final List<Seen> seen = new ArrayList<>();
    private final List<long[]> lostSeen = new ArrayList<>();

    record Seen(int cpu, byte[] bytes, long time, long address) { }

    @AfterEach
    void free() {
        arena.close();
    }

    /** Writes records into a fake mapping: metadata page, then a small data area that records wrap around. */
    final class FakeRing {
        final MemorySegment mapping = arena.allocate(Sys.PAGE_SIZE + DATA, Sys.PAGE_SIZE);
        final MemorySegment data = mapping.asSlice(Sys.PAGE_SIZE, DATA);
        final boolean timestamps;
        long head;

        FakeRing(boolean timestamps, long start) {
            this.timestamps = timestamps;
            mapping.set(JAVA_LONG, PerfLayout.DATA_OFFSET, Sys.PAGE_SIZE);
            mapping.set(JAVA_LONG, PerfLayout.DATA_SIZE, DATA);
            mapping.set(JAVA_LONG, PerfLayout.DATA_TAIL, start);
            data.fill(STALE);
            head = start;
            publish();
        }

        void put(long at, byte[] bytes) {
            for (int i = 0; i < bytes.length; i++) {
                data.set(JAVA_BYTE, (at + i) & (DATA - 1), bytes[i]);
            }
        }

        void putLong(long at, long v) {
            MemorySegment s = arena.allocate(8);
            s.set(JAVA_LONG, 0, v);
            put(at, s.toArray(JAVA_BYTE));
        }

        void putInt(long at, int v) {
            MemorySegment s = arena.allocate(4);
            s.set(JAVA_INT, 0, v);
            put(at, s.toArray(JAVA_BYTE));
        }

        void header(int type, int size) {
            putInt(head, type);
            putInt(head + 4, size << 16);  // u16 misc = 0, u16 size
        }

        /** A sample as the kernel writes it; the padding after the payload is left as it was (stale). */
        void sample(byte[] payload, long time) {
            long raw = PerfLayout.rawSizeFor(payload.length);
            int size = (int) (PerfLayout.rawSizeOffset(timestamps) + 4 + raw);
            header(PerfLayout.RECORD_SAMPLE, size);
            long at = head + PerfLayout.rawSizeOffset(timestamps);
            if (timestamps) {
                putLong(head + PerfLayout.SAMPLE_TIME, time);
            }
            putInt(at, (int) raw);
            put(at + 4, payload);
            head += size;
        }

        void lost(long count) {
            header(PerfLayout.RECORD_LOST, 24);
            putLong(head + 8, 77);
            putLong(head + 16, count);
            head += 24;
        }

        void other(int type, int size) {
            header(type, size);
            head += size;
        }

        void publish() {
            mapping.set(JAVA_LONG, PerfLayout.DATA_HEAD, head);
        }

        long tail() {
            return mapping.get(JAVA_LONG, PerfLayout.DATA_TAIL);
        }

        PerfRing reader(int fixedSize, java.util.function.ToIntFunction<MemorySegment> length) {
            return new PerfRing(3, mapping, arena.allocate(PerfLayout.MAX_RECORD_BYTES, 8), timestamps, fixedSize,
                    length);
        }

        int read(PerfRing ring) {
            return ring.read((cpu, p, t) -> seen.add(new Seen(cpu, p.toArray(JAVA_BYTE), t, p.address())),
                    (cpu, n) -> lostSeen.add(new long[]{cpu, n}));
        }

        boolean inData(long address) {
            return address >= data.address() && address < data.address() + DATA;
        }
    }

    static byte[] bytes(int n, int seed) {
        byte[] b = new byte[n];
        for (int i = 0; i < n; i++) {
            b[i] = (byte) (seed + i);
        }
        return b;
    }

    @Test
    void deliversEachSampleWithItsCpuTimeAndBytesAndMovesTheTailToTheHead() {
        FakeRing r = new FakeRing(true, 0);
        r.sample(bytes(16, 1), 1000);
        r.sample(bytes(28, 2), 2000);
        r.publish();
        PerfRing ring = r.reader(-1, null);
        assertEquals(2, r.read(ring));
        assertEquals(2, seen.size());
        assertEquals(3, seen.get(0).cpu());
        assertEquals(1000, seen.get(0).time());
        assertEquals(2000, seen.get(1).time());
        // 28 bytes need no padding (28 + 4 is a multiple of 8), so the raw area is exactly the payload.
        assertArrayEquals(bytes(28, 2), seen.get(1).bytes());
        assertEquals(r.head, r.tail());
        assertEquals(2, ring.delivered());
        assertEquals(0, r.read(ring));
    }

    @Test
    void withoutDeclaredSizeDeliversTheWholeRawAreaIncludingStalePadding() {
        FakeRing r = new FakeRing(false, 0);
        r.sample(bytes(17, 5), 0);   // raw size = roundUp(21, 8) - 4 = 20: three bytes of padding
        r.publish();
        r.read(r.reader(-1, null));
        byte[] got = seen.get(0).bytes();
        assertEquals(20, got.length);
        assertArrayEquals(bytes(17, 5), Arrays.copyOf(got, 17));
        assertArrayEquals(new byte[]{STALE, STALE, STALE}, Arrays.copyOfRange(got, 17, 20));
        assertEquals(0, seen.get(0).time(), "no timestamps asked for");
    }

    @Test
    void deliversExactlyTheDeclaredPayloadSizeWithoutPadding() {
        FakeRing r = new FakeRing(true, 0);
        r.sample(bytes(17, 5), 9);
        r.sample(bytes(17, 6), 10);
        r.publish();
        r.read(r.reader(17, null));
        assertArrayEquals(bytes(17, 5), seen.get(0).bytes());
        assertArrayEquals(bytes(17, 6), seen.get(1).bytes());
    }

    @Test
    void deliversTheLengthThePayloadItselfDeclares() {
        FakeRing r = new FakeRing(false, 0);
        for (int n : new int[]{9, 12, 13, 40}) {
            byte[] p = bytes(n, n);
            p[0] = (byte) n;  // the record's own length field
            r.sample(p, 0);
        }
        r.publish();
        r.read(r.reader(-1, raw -> raw.get(JAVA_BYTE, 0)));
        assertEquals(List.of(9, 12, 13, 40), seen.stream().map(s -> s.bytes().length).toList());
    }

    @Test
    void refusesASampleWhoseRawSizeCannotHoldTheDeclaredSizeAndSkipsOnlyThatRecord() {
        FakeRing r = new FakeRing(false, 0);
        r.sample(bytes(40, 1), 0);
        r.sample(bytes(16, 2), 0);
        r.publish();
        PerfRing ring = r.reader(16, null);
        BpfException e = assertThrows(BpfException.class, () -> r.read(ring));
        assertTrue(e.getMessage().contains("44 raw bytes") && e.getMessage().contains("payloadSize option says 16"),
                e.getMessage());
        assertEquals(0, seen.size());
        r.read(ring);
        assertArrayEquals(bytes(16, 2), seen.get(0).bytes(), "the next record is still there");
        assertEquals(r.head, r.tail());
    }

    @Test
    void reassemblesASampleThatWrapsTheEndAndSlicesTheOthersInPlace() {
        // Start 40 bytes before the end: the first sample (8 + 8 + 4 + 60 = 80 bytes) crosses the end.
        long start = 5L * DATA - 40;
        FakeRing r = new FakeRing(true, start);
        r.sample(bytes(60, 7), 1);
        r.sample(bytes(60, 8), 2);
        r.publish();
        r.read(r.reader(60, null));
        assertArrayEquals(bytes(60, 7), seen.get(0).bytes());
        assertArrayEquals(bytes(60, 8), seen.get(1).bytes());
        assertFalse(r.inData(seen.get(0).address()), "a wrapped record is copied to scratch");
        assertTrue(r.inData(seen.get(1).address()), "a record that fits is a slice of the mapping");
        assertEquals(1, seen.get(0).time());
        assertEquals(r.head, r.tail());
    }

    @Test
    void wrapsAtEveryOffsetOfTheRecord() {
        for (int shift = 8; shift <= 96; shift += 8) {
            seen.clear();
            FakeRing r = new FakeRing(true, 3L * DATA - shift);
            r.sample(bytes(93, shift), shift);
            r.publish();
            r.read(r.reader(93, null));
            assertArrayEquals(bytes(93, shift), seen.get(0).bytes(), "wrapped " + shift + " bytes before the end");
            assertEquals(shift, seen.get(0).time());
        }
    }

    @Test
    void countsLostRecordsPerCpuAndReportsEach() {
        FakeRing r = new FakeRing(false, 0);
        r.sample(bytes(12, 1), 0);
        r.lost(5);
        r.lost(7);
        r.sample(bytes(12, 2), 0);
        r.publish();
        PerfRing ring = r.reader(12, null);
        assertEquals(2, r.read(ring));
        assertEquals(12, ring.lost());
        assertEquals(2, ring.delivered());
        assertEquals(List.of(List.of(3L, 5L), List.of(3L, 7L)),
                lostSeen.stream().map(a -> List.of(a[0], a[1])).toList());
    }

    @Test
    void stepsOverRecordTypesItDoesNotKnow() {
        FakeRing r = new FakeRing(false, 0);
        r.other(14, 40);   // PERF_RECORD_THROTTLE-like
        r.sample(bytes(12, 3), 0);
        r.publish();
        assertEquals(1, r.read(r.reader(12, null)));
        assertArrayEquals(bytes(12, 3), seen.get(0).bytes());
    }

    @Test
    void aThrowingHandlerConsumesItsRecordAndLeavesTheRestForTheNextRead() {
        FakeRing r = new FakeRing(false, 0);
        r.sample(bytes(12, 1), 0);
        r.sample(bytes(12, 2), 0);
        r.sample(bytes(12, 3), 0);
        r.publish();
        PerfRing ring = r.reader(12, null);
        int[] calls = {0};
        assertThrows(IllegalStateException.class, () -> ring.read((cpu, p, t) -> {
            if (++calls[0] == 2) {
                throw new IllegalStateException("handler failed");
            }
        }, null));
        assertEquals(2 * 24, r.tail(), "tail published past the record whose handler threw");
        assertEquals(1, r.read(ring));
        assertArrayEquals(bytes(12, 3), seen.get(0).bytes());
    }

    @Test
    void resynchronisesOnACorruptRecordWithAnErrorThatSaysSo() {
        FakeRing r = new FakeRing(false, 0);
        r.header(9, 0);   // size 0 would otherwise never advance
        r.head += 64;
        r.publish();
        PerfRing ring = r.reader(-1, null);
        BpfException e = assertThrows(BpfException.class, () -> r.read(ring));
        assertTrue(e.getMessage().contains("size 0") && e.getMessage().contains("64 bytes were skipped"),
                e.getMessage());
        assertEquals(r.head, r.tail());
        assertFalse(ring.hasData());
    }

    @Test
    void readsOnlyWhatTheKernelPublished() {
        FakeRing r = new FakeRing(false, 0);
        r.sample(bytes(12, 1), 0);
        r.publish();
        r.sample(bytes(12, 2), 0);   // written but head not yet moved
        PerfRing ring = r.reader(12, null);
        assertEquals(1, r.read(ring));
        assertFalse(ring.hasData());
        r.publish();
        assertTrue(ring.hasData());
        assertEquals(1, r.read(ring));
    }

    // ------------------------------------------------------------------ positions that cannot be

    /** A handler that fails the test once it has seen more records than could be in the ring. */
    private PerfBuffer.Handler atMost(int n) {
        return (cpu, p, t) -> {
            if (seen.size() >= n) {
                throw new AssertionError("delivered more than the " + n + " records the ring can hold");
            }
            seen.add(new Seen(cpu, p.toArray(JAVA_BYTE), t, p.address()));
        };
    }

    @Test
    void aHeadFarAheadOfTheTailIsReportedAndSkippedInsteadOfDeliveringStaleRecords() {
        FakeRing r = new FakeRing(false, 0);
        for (int i = 0; i < DATA / 24; i++) {
            r.sample(bytes(12, i), 0);   // a full ring of stale but well-formed samples
        }
        r.head = 1L << 40;
        r.publish();
        PerfRing ring = r.reader(12, null);
        BpfException e = assertThrows(BpfException.class, () -> ring.read(atMost(DATA / 24), null));
        assertTrue(e.getMessage().contains("CPU 3") && e.getMessage().contains("bytes ahead of data_tail 0")
                && e.getMessage().contains("256-byte data area"), e.getMessage());
        assertEquals(0, seen.size(), "nothing between a head that cannot be and the tail is trusted");
        assertEquals(r.head, r.tail(), "the tail resynchronised on the head");
        assertEquals(0, r.read(ring), "and the next read finds nothing to do");
        r.sample(bytes(12, 9), 0);
        r.publish();
        assertEquals(1, r.read(ring), "records the kernel writes after that are read as usual");
        assertArrayEquals(bytes(12, 9), seen.getFirst().bytes());
    }

    @Test
    void aRecordLargerThanTheDataAreaIsReportedAndTheTailMovesOn() {
        FakeRing r = new FakeRing(false, 64);
        r.header(PerfLayout.RECORD_SAMPLE, 0xFFF8);
        r.head += 0xFFF8;
        r.publish();
        PerfRing ring = r.reader(-1, null);
        BpfException e = assertThrows(BpfException.class, () -> r.read(ring));
        assertTrue(e.getMessage().contains("CPU 3") && e.getMessage().contains("more than the 256-byte data area"),
                e.getMessage());
        assertEquals(r.head, r.tail());
        // Within a sane head, the same record is one that cannot be: skipped up to the head.
        r.header(PerfLayout.RECORD_SAMPLE, 0xFFF8);
        r.head += 64;
        r.publish();
        e = assertThrows(BpfException.class, () -> r.read(ring));
        assertTrue(e.getMessage().contains("size 65528") && e.getMessage().contains("64 bytes were skipped"),
                e.getMessage());
        assertEquals(r.head, r.tail());
        assertEquals(0, r.read(ring));
    }

    @Test
    void aHeadThatGoesBackIsReportedAndReadingResumesAtIt() {
        FakeRing r = new FakeRing(false, 0);
        r.sample(bytes(12, 1), 0);
        r.sample(bytes(12, 2), 0);
        r.publish();
        PerfRing ring = r.reader(12, null);
        assertEquals(2, r.read(ring));
        r.head = 24;   // behind what was already read
        r.publish();
        BpfException e = assertThrows(BpfException.class, () -> r.read(ring));
        assertTrue(e.getMessage().contains("data_head went back from 48 to 24"), e.getMessage());
        assertEquals(24, r.tail());
        r.sample(bytes(12, 3), 0);
        r.publish();
        assertEquals(1, r.read(ring));
        assertArrayEquals(bytes(12, 3), seen.getLast().bytes());
    }

    @Test
    void unalignedPositionsAreReportedAndNotReadFrom() {
        FakeRing r = new FakeRing(false, 0);
        r.sample(bytes(12, 1), 0);
        r.publish();
        r.mapping.set(JAVA_LONG, PerfLayout.DATA_TAIL, 4);
        PerfRing ring = r.reader(12, null);
        BpfException e = assertThrows(BpfException.class, () -> r.read(ring));
        assertTrue(e.getMessage().contains("not 8-byte aligned"), e.getMessage());
        assertEquals(0, seen.size());
        assertEquals(r.head, r.tail());
    }

    // ------------------------------------------------------------------ records too short for their type

    @Test
    void aHeaderOnlySampleAtTheEndOfTheDataAreaIsReportedAndSkipped() {
        FakeRing r = new FakeRing(true, 5L * DATA - 8);
        r.header(PerfLayout.RECORD_SAMPLE, 8);
        r.head += 8;
        r.sample(bytes(16, 4), 44);   // starts at the beginning of the area
        r.publish();
        PerfRing ring = r.reader(16, null);
        BpfException e = assertThrows(BpfException.class, () -> r.read(ring));
        assertTrue(e.getMessage().contains("CPU 3") && e.getMessage().contains("SAMPLE record of 8 bytes")
                && e.getMessage().contains("shorter than the 20 bytes"), e.getMessage());
        assertEquals(0, ring.delivered(), "a skipped sample is not counted as delivered");
        assertEquals(1, r.read(ring), "the record after it is read");
        assertArrayEquals(bytes(16, 4), seen.getFirst().bytes());
        assertEquals(44, seen.getFirst().time());
        assertEquals(r.head, r.tail());
    }

    @Test
    void aHeaderOnlyLostRecordAtTheEndOfTheDataAreaIsReportedAndSkipped() {
        FakeRing r = new FakeRing(false, 3L * DATA - 8);
        r.header(PerfLayout.RECORD_LOST, 8);
        r.head += 8;
        r.lost(4);
        r.publish();
        PerfRing ring = r.reader(-1, null);
        BpfException e = assertThrows(BpfException.class, () -> r.read(ring));
        assertTrue(e.getMessage().contains("LOST record of 8 bytes") && e.getMessage().contains("24 bytes"),
                e.getMessage());
        assertEquals(0, r.read(ring));
        assertEquals(List.of(List.of(3L, 4L)), lostSeen.stream().map(a -> List.of(a[0], a[1])).toList());
        assertEquals(4, ring.lost());
    }

    @Test
    void aTooShortLostRecordInMidRingIsReportedInsteadOfReadingTheNextRecordAsItsCount() {
        FakeRing r = new FakeRing(false, 0);
        r.header(PerfLayout.RECORD_LOST, 16);
        r.putLong(r.head + 8, 5);
        r.head += 16;
        r.sample(bytes(12, 7), 0);
        r.publish();
        PerfRing ring = r.reader(12, null);
        BpfException e = assertThrows(BpfException.class, () -> r.read(ring));
        assertTrue(e.getMessage().contains("LOST record of 16 bytes at position 0"), e.getMessage());
        assertEquals(List.of(), lostSeen, "no count made of the next record's header");
        assertEquals(0, ring.lost());
        assertEquals(1, r.read(ring));
        assertArrayEquals(bytes(12, 7), seen.getFirst().bytes());
    }
}
