package dev.panbpf.perf;

import dev.panbpf.BpfException;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.*;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * The perf record parser over rings whose positions or records cannot be (the mapping is writable by anyone who
 * maps the event): each such read raises a BpfException naming the CPU and what is wrong, reads nothing outside
 * the data area, and leaves the tail where the next read makes progress.
 */
class PerfRingCorruptionTest extends PerfRingTestBase {
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
