package dev.panbpf.perf;

import dev.panbpf.BpfException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.util.ArrayList;
import java.util.List;

import static dev.panbpf.perf.FakeRing.bytes;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static org.junit.jupiter.api.Assertions.*;

/**
 * The perf record cursor over rings whose positions or records cannot be (the mapping is writable by anyone who
 * maps the event): each such read raises a BpfException naming the CPU and what is wrong, reads nothing outside
 * the data area, and leaves the tail where the next read makes progress. {@link PerfCorruptionKernelTest} shows
 * both readers get the same from a real ring.
 */
class PerfCursorCorruptionTest {
    static final int DATA = 256;

    private final Arena arena = Arena.ofConfined();
    private final List<byte[]> seen = new ArrayList<>();
    private final List<long[]> lostSeen = new ArrayList<>();
    private final PerfBuffer.Handler collect = (cpu, p, t) -> seen.add(p.toArray(JAVA_BYTE));

    @AfterEach
    void free() {
        arena.close();
    }

    private FakeRing ring(boolean timestamps, long start) {
        return new FakeRing(arena, 3, DATA, timestamps, start);
    }

    private PerfCursor cursor(FakeRing r, int payloadSize) {
        PerfOptions o = PerfOptions.defaults().onLost((cpu, n) -> lostSeen.add(new long[]{cpu, n}));
        return r.cursor(payloadSize < 0 ? o : o.payloadSize(payloadSize));
    }

    /** A handler that fails the test once it has seen more records than could be in the ring. */
    private PerfBuffer.Handler atMost(int n) {
        return (cpu, p, t) -> {
            if (seen.size() >= n) {
                throw new AssertionError("delivered more than the " + n + " records the ring can hold");
            }
            return collect.onRecord(cpu, p, t);
        };
    }

    // ------------------------------------------------------------------ positions that cannot be

    @Test
    void aHeadFarAheadOfTheTailIsReportedAndSkippedInsteadOfDeliveringStaleRecords() {
        FakeRing r = ring(false, 0);
        for (int i = 0; i < DATA / 24; i++) {
            r.sample(bytes(12, i), 0);   // a full ring of stale but well-formed samples
        }
        r.head = 1L << 40;
        r.publish();
        PerfCursor c = cursor(r, 12);
        BpfException e = assertThrows(BpfException.class, () -> Passes.drain(c, atMost(DATA / 24)));
        assertTrue(e.getMessage().contains("CPU 3") && e.getMessage().contains("bytes ahead of data_tail 0")
                && e.getMessage().contains("256-byte data area"), e.getMessage());
        assertEquals(0, seen.size(), "nothing between a head that cannot be and the tail is trusted");
        assertEquals(r.head, r.tail(), "the tail resynchronised on the head");
        assertEquals(0, Passes.drain(c, collect), "and the next read finds nothing to do");
        r.sample(bytes(12, 9), 0).publish();
        assertEquals(1, Passes.drain(c, collect), "records the kernel writes after that are read as usual");
        assertArrayEquals(bytes(12, 9), seen.getFirst());
    }

    @Test
    void aRecordLargerThanTheDataAreaIsReportedAndTheTailMovesOn() {
        FakeRing r = ring(false, 64);
        r.header(PerfLayout.RECORD_SAMPLE, 0xFFF8);
        r.head += 0xFFF8;
        r.publish();
        PerfCursor c = cursor(r, -1);
        BpfException e = assertThrows(BpfException.class, () -> Passes.drain(c, collect));
        assertTrue(e.getMessage().contains("CPU 3") && e.getMessage().contains("more than the 256-byte data area"),
                e.getMessage());
        assertEquals(r.head, r.tail());
        // Within a sane head, the same record is one that cannot be: skipped up to the head.
        r.header(PerfLayout.RECORD_SAMPLE, 0xFFF8);
        r.head += 64;
        r.publish();
        e = assertThrows(BpfException.class, () -> Passes.drain(c, collect));
        assertTrue(e.getMessage().contains("size 65528") && e.getMessage().contains("64 bytes were skipped"),
                e.getMessage());
        assertEquals(r.head, r.tail());
        assertEquals(0, Passes.drain(c, collect));
    }

    @Test
    void aRecordOfSizeZeroIsReportedAndReadingResynchronisesOnTheHead() {
        FakeRing r = ring(false, 0);
        r.header(9, 0);   // size 0 would otherwise never advance
        r.head += 64;
        r.publish();
        PerfCursor c = cursor(r, -1);
        BpfException e = assertThrows(BpfException.class, () -> Passes.drain(c, collect));
        assertTrue(e.getMessage().contains("size 0") && e.getMessage().contains("64 bytes were skipped"),
                e.getMessage());
        assertEquals(r.head, r.tail());
        assertEquals(0, c.unreadSamples());
    }

    @Test
    void aHeadThatGoesBackIsReportedAndReadingResumesAtIt() {
        FakeRing r = ring(false, 0);
        r.sample(bytes(12, 1), 0).sample(bytes(12, 2), 0).publish();
        PerfCursor c = cursor(r, 12);
        assertEquals(2, Passes.drain(c, collect));
        r.head = 24;   // behind what was already read
        r.publish();
        BpfException e = assertThrows(BpfException.class, () -> Passes.drain(c, collect));
        assertTrue(e.getMessage().contains("data_head went back from 48 to 24"), e.getMessage());
        assertEquals(24, r.tail());
        r.sample(bytes(12, 3), 0).publish();
        assertEquals(1, Passes.drain(c, collect));
        assertArrayEquals(bytes(12, 3), seen.getLast());
    }

    @Test
    void unalignedPositionsAreReportedAndNotReadFrom() {
        FakeRing r = ring(false, 0);
        r.sample(bytes(12, 1), 0).publish();
        r.setTail(4);
        PerfCursor c = cursor(r, 12);
        BpfException e = assertThrows(BpfException.class, () -> Passes.drain(c, collect));
        assertTrue(e.getMessage().contains("not 8-byte aligned"), e.getMessage());
        assertEquals(0, seen.size());
        assertEquals(r.head, r.tail());
    }

    // ------------------------------------------------------------------ records too short for their type

    @Test
    void aHeaderOnlySampleAtTheEndOfTheDataAreaIsReportedAndSkipped() {
        FakeRing r = ring(true, 5L * DATA - 8);
        r.header(PerfLayout.RECORD_SAMPLE, 8);
        r.head += 8;
        r.sample(bytes(16, 4), 44).publish();   // starts at the beginning of the area
        List<Long> times = new ArrayList<>();
        PerfCursor c = cursor(r, 16);
        BpfException e = assertThrows(BpfException.class, () -> Passes.drain(c, collect));
        assertTrue(e.getMessage().contains("CPU 3") && e.getMessage().contains("SAMPLE record of 8 bytes")
                && e.getMessage().contains("shorter than the 20 bytes"), e.getMessage());
        assertEquals(0, seen.size(), "a skipped sample is not delivered");
        assertEquals(1, Passes.drain(c, (cpu, p, t) -> times.add(t) && collect.onRecord(cpu, p, t)));
        assertArrayEquals(bytes(16, 4), seen.getFirst());
        assertEquals(List.of(44L), times);
        assertEquals(r.head, r.tail());
    }

    @Test
    void aHeaderOnlyLostRecordAtTheEndOfTheDataAreaIsReportedAndSkipped() {
        FakeRing r = ring(false, 3L * DATA - 8);
        r.header(PerfLayout.RECORD_LOST, 8);
        r.head += 8;
        r.lost(4).publish();
        PerfCursor c = cursor(r, -1);
        BpfException e = assertThrows(BpfException.class, () -> Passes.drain(c, collect));
        assertTrue(e.getMessage().contains("LOST record of 8 bytes") && e.getMessage().contains("24 bytes"),
                e.getMessage());
        assertEquals(0, Passes.drain(c, collect));
        assertEquals(List.of(List.of(3L, 4L)), lostSeen.stream().map(a -> List.of(a[0], a[1])).toList());
        assertEquals(4, c.lost());
    }

    @Test
    void aTooShortLostRecordInMidRingIsReportedInsteadOfReadingTheNextRecordAsItsCount() {
        FakeRing r = ring(false, 0);
        r.header(PerfLayout.RECORD_LOST, 16);
        r.putLong(r.head + 8, 5);
        r.head += 16;
        r.sample(bytes(12, 7), 0).publish();
        PerfCursor c = cursor(r, 12);
        BpfException e = assertThrows(BpfException.class, () -> Passes.drain(c, collect));
        assertTrue(e.getMessage().contains("LOST record of 16 bytes at position 0"), e.getMessage());
        assertEquals(List.of(), lostSeen, "no count made of the next record's header");
        assertEquals(0, c.lost());
        assertEquals(1, Passes.drain(c, collect));
        assertArrayEquals(bytes(12, 7), seen.getFirst());
    }
}
