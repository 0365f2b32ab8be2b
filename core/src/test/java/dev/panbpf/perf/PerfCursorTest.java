package dev.panbpf.perf;

import dev.panbpf.BpfException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static dev.panbpf.perf.FakeRing.STALE;
import static dev.panbpf.perf.FakeRing.bytes;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static org.junit.jupiter.api.Assertions.*;

/**
 * The perf record cursor over rings this test writes itself, byte for byte as the kernel would: samples with and
 * without time, LOST records, unknown types, records that wrap the end, padding, a handler that stops or throws.
 * No kernel needed.
 */
class PerfCursorTest {
    static final int DATA = 256;

    record Seen(int cpu, byte[] bytes, long time, long address) { }

    private final Arena arena = Arena.ofConfined();
    private final List<Seen> seen = new ArrayList<>();
    private final List<long[]> lostSeen = new ArrayList<>();
    private final PerfBuffer.Handler collect =
            (cpu, p, t) -> seen.add(new Seen(cpu, p.toArray(JAVA_BYTE), t, p.address()));

    @AfterEach
    void free() {
        arena.close();
    }

    private FakeRing ring(boolean timestamps, long start) {
        return new FakeRing(arena, 3, DATA, timestamps, start);
    }

    private PerfOptions options() {
        return PerfOptions.defaults().onLost((cpu, n) -> lostSeen.add(new long[]{cpu, n}));
    }

    @Test
    void deliversEachSampleWithItsCpuTimeAndBytesAndMovesTheTailToTheHead() {
        FakeRing r = ring(true, 0);
        r.sample(bytes(16, 1), 1000).sample(bytes(28, 2), 2000).publish();
        PerfCursor c = r.cursor(options());
        assertEquals(2, Passes.drain(c, collect));
        assertEquals(3, seen.get(0).cpu());
        assertEquals(1000, seen.get(0).time());
        assertEquals(2000, seen.get(1).time());
        // 28 bytes need no padding (28 + 4 is a multiple of 8), so the raw area is exactly the payload.
        assertArrayEquals(bytes(28, 2), seen.get(1).bytes());
        assertEquals(r.head, r.tail());
        assertEquals(0, Passes.drain(c, collect));
    }

    @Test
    void withoutDeclaredSizeDeliversTheWholeRawAreaIncludingStalePadding() {
        FakeRing r = ring(false, 0);
        r.sample(bytes(17, 5), 0).publish();   // raw size = roundUp(21, 8) - 4 = 20: three bytes of padding
        Passes.drain(r.cursor(options()), collect);
        byte[] got = seen.get(0).bytes();
        assertEquals(20, got.length);
        assertArrayEquals(bytes(17, 5), Arrays.copyOf(got, 17));
        assertArrayEquals(new byte[]{STALE, STALE, STALE}, Arrays.copyOfRange(got, 17, 20));
        assertEquals(0, seen.get(0).time(), "no timestamps asked for");
    }

    @Test
    void deliversExactlyTheDeclaredPayloadSizeWithoutPadding() {
        FakeRing r = ring(true, 0);
        r.sample(bytes(17, 5), 9).sample(bytes(17, 6), 10).publish();
        Passes.drain(r.cursor(options().payloadSize(17)), collect);
        assertArrayEquals(bytes(17, 5), seen.get(0).bytes());
        assertArrayEquals(bytes(17, 6), seen.get(1).bytes());
    }

    @Test
    void deliversTheLengthThePayloadItselfDeclares() {
        FakeRing r = ring(false, 0);
        for (int n : new int[]{9, 12, 13, 40}) {
            byte[] p = bytes(n, n);
            p[0] = (byte) n;  // the record's own length field
            r.sample(p, 0);
        }
        r.publish();
        Passes.drain(r.cursor(options().payloadLength(raw -> raw.get(JAVA_BYTE, 0))), collect);
        assertEquals(List.of(9, 12, 13, 40), seen.stream().map(s -> s.bytes().length).toList());
    }

    @Test
    void refusesASampleWhoseRawSizeCannotHoldTheDeclaredSizeAndSkipsOnlyThatRecord() {
        FakeRing r = ring(false, 0);
        r.sample(bytes(40, 1), 0).sample(bytes(16, 2), 0).publish();
        PerfCursor c = r.cursor(options().payloadSize(16));
        BpfException e = assertThrows(BpfException.class, () -> Passes.drain(c, collect));
        assertTrue(e.getMessage().contains("44 raw bytes") && e.getMessage().contains("payloadSize option says 16"),
                e.getMessage());
        assertEquals(0, seen.size(), "a skipped sample is not delivered");
        Passes.drain(c, collect);
        assertArrayEquals(bytes(16, 2), seen.get(0).bytes(), "the next record is still there");
        assertEquals(r.head, r.tail());
    }

    @Test
    void reassemblesASampleThatWrapsTheEndAndSlicesTheOthersInPlace() {
        // Start 40 bytes before the end: the first sample (8 + 8 + 4 + 60 = 80 bytes) crosses the end.
        FakeRing r = ring(true, 5L * DATA - 40);
        r.sample(bytes(60, 7), 1).sample(bytes(60, 8), 2).publish();
        List<Boolean> readOnly = new ArrayList<>();
        Passes.drain(r.cursor(options().payloadSize(60)), (cpu, p, t) -> {
            readOnly.add(p.isReadOnly());
            return collect.onRecord(cpu, p, t);
        });
        assertArrayEquals(bytes(60, 7), seen.get(0).bytes());
        assertArrayEquals(bytes(60, 8), seen.get(1).bytes());
        assertFalse(r.inData(seen.get(0).address()), "a wrapped record is copied to scratch");
        assertTrue(r.inData(seen.get(1).address()), "a record that fits is a slice of the mapping");
        assertEquals(List.of(true, true), readOnly, "handlers cannot write either");
        assertEquals(1, seen.get(0).time());
        assertEquals(r.head, r.tail());
    }

    @Test
    void aRunOfEqualSamplesEndsAtTheEndOfTheAreaAndTheWrappedOneIsCopied() {
        // 32-byte records (8 + 8 + 4 + 12) from 72 bytes before the end: two fit, the third crosses it, three follow.
        FakeRing r = ring(true, 7L * DATA - 72);
        for (int i = 0; i < 6; i++) {
            r.sample(bytes(12, i), 100 + i);
        }
        r.publish();
        assertEquals(6, Passes.drain(r.cursor(options()), collect));
        for (int i = 0; i < 6; i++) {
            assertArrayEquals(bytes(12, i), seen.get(i).bytes(), "sample " + i);
            assertEquals(100 + i, seen.get(i).time(), "sample " + i);
        }
        assertFalse(r.inData(seen.get(2).address()), "the one crossing the end is copied");
        assertTrue(r.inData(seen.get(3).address()));
        assertEquals(r.head, r.tail());
    }

    @Test
    void aRunStopsAtASampleWithTheSameHeaderAndAnImpossibleRawSize() {
        FakeRing r = ring(false, 0);
        long[] at = new long[4];
        for (int i = 0; i < 4; i++) {
            at[i] = r.head;
            r.sample(bytes(20, i), 0);
        }
        r.putInt(at[2] + PerfLayout.HEADER_BYTES, 200);  // same header word, a raw size past the record
        r.publish();
        PerfCursor c = r.cursor(options());
        BpfException e = assertThrows(BpfException.class, () -> Passes.drain(c, collect));
        assertTrue(e.getMessage().contains("claims 200 raw bytes") && e.getMessage().contains("CPU 3"), e.getMessage());
        assertEquals(2, seen.size(), "the run before it was delivered");
        assertEquals(1, Passes.drain(c, collect), "only the bad record was skipped");
        assertArrayEquals(bytes(20, 3), seen.get(2).bytes());
        assertEquals(r.head, r.tail());
    }

    @Test
    void aPayloadKeptPastItsMappingThrowsInsteadOfReadingFreedMemory() {
        Arena own = Arena.ofShared();
        FakeRing r = new FakeRing(own, 3, DATA, false, 0);
        r.sample(bytes(20, 1), 0).sample(bytes(20, 2), 0).publish();
        List<MemorySegment> kept = new ArrayList<>();
        Passes.drain(r.cursor(options()), (cpu, p, t) -> kept.add(p));
        assertEquals(2, kept.get(1).get(JAVA_BYTE, 0), "readable while mapped");
        own.close();
        assertThrows(IllegalStateException.class, () -> kept.get(1).get(JAVA_BYTE, 0));
    }

    @Test
    void wrapsAtEveryOffsetOfTheRecord() {
        for (int shift = 8; shift <= 96; shift += 8) {
            seen.clear();
            FakeRing r = ring(true, 3L * DATA - shift);
            r.sample(bytes(93, shift), shift).publish();
            Passes.drain(r.cursor(options().payloadSize(93)), collect);
            assertArrayEquals(bytes(93, shift), seen.get(0).bytes(), "wrapped " + shift + " bytes before the end");
            assertEquals(shift, seen.get(0).time());
        }
    }

    @Test
    void countsLostRecordsPerCpuAndReportsEachEvenWhenTheyWrapTheEnd() {
        FakeRing r = ring(false, 3L * DATA - 40);
        r.sample(bytes(12, 1), 0).lost(5).lost(7).sample(bytes(12, 2), 0).publish();  // the second LOST wraps
        PerfCursor c = r.cursor(options().payloadSize(12));
        assertEquals(2, Passes.drain(c, collect));
        assertEquals(12, c.lost());
        assertEquals(List.of(List.of(3L, 5L), List.of(3L, 7L)),
                lostSeen.stream().map(a -> List.of(a[0], a[1])).toList());
    }

    @Test
    void stepsOverRecordTypesItDoesNotKnow() {
        FakeRing r = ring(false, 0);
        r.other(14, 40).sample(bytes(12, 3), 0).publish();   // PERF_RECORD_THROTTLE-like, then a sample
        assertEquals(1, Passes.drain(r.cursor(options().payloadSize(12)), collect));
        assertArrayEquals(bytes(12, 3), seen.get(0).bytes());
    }

    @Test
    void aThrowingHandlerConsumesItsRecordAndLeavesTheRestForTheNextRead() {
        FakeRing r = ring(false, 0);
        r.sample(bytes(12, 1), 0).sample(bytes(12, 2), 0).sample(bytes(12, 3), 0).publish();
        PerfCursor c = r.cursor(options().payloadSize(12));
        int[] calls = {0};
        assertThrows(IllegalStateException.class, () -> Passes.drain(c, (cpu, p, t) -> {
            if (++calls[0] == 2) {
                throw new IllegalStateException("handler failed");
            }
            return true;
        }));
        assertEquals(2 * 24, r.tail(), "tail published past the record whose handler threw");
        assertEquals(1, Passes.drain(c, collect));
        assertArrayEquals(bytes(12, 3), seen.get(0).bytes());
    }

    @Test
    void aSamplePutBackIsReadAgainByTheNextPassAndCountedOnce() {
        FakeRing r = ring(true, 5L * DATA - 24);
        r.sample(bytes(12, 1), 1).sample(bytes(12, 2), 2).lost(4).sample(bytes(12, 3), 3).publish();
        PerfCursor c = r.cursor(options().payloadSize(12));
        c.begin();
        assertTrue(c.next());
        assertTrue(c.next());
        assertTrue(c.next(), "past the LOST record");
        assertEquals(3, c.time());
        c.putBack();
        c.end();
        assertEquals(r.head - 32, r.tail(), "the tail stops before the sample put back, after the LOST record");
        assertEquals(4, c.lost());
        assertEquals(1, Passes.drain(c, collect), "only the sample put back is read again");
        assertArrayEquals(bytes(12, 3), seen.getFirst().bytes());
        assertEquals(4, c.lost(), "the LOST record is not read twice");
    }

    @Test
    void readsOnlyWhatTheKernelPublished() {
        FakeRing r = ring(false, 0);
        r.sample(bytes(12, 1), 0).publish();
        r.sample(bytes(12, 2), 0);   // written but head not yet moved
        PerfCursor c = r.cursor(options().payloadSize(12));
        assertEquals(1, Passes.drain(c, collect));
        assertEquals(0, Passes.drain(c, collect));
        r.publish();
        assertEquals(1, c.unreadSamples(), "what a close would count as dropped");
        assertEquals(1, Passes.drain(c, collect));
        assertEquals(0, c.unreadSamples());
    }
}
