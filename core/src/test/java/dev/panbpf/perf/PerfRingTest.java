package dev.panbpf.perf;

import dev.panbpf.BpfException;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;

/**
 * The perf record parser over rings this test writes itself, byte for byte as the kernel would: samples with and
 * without time, LOST records, unknown types, records that wrap the end, padding, corrupt records. No kernel needed.
 */
class PerfRingTest extends PerfRingTestBase {
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

}
