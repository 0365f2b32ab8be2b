package dev.panbpf.perf;

import dev.panbpf.BpfException;
import dev.panbpf.internal.Sys;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED;

/**
 * The merge reading perf rings this test writes itself, byte for byte as the kernel would: samples go out in time
 * order straight from the mappings, what the rule holds is copied and merged with later reads, and wrapped
 * records, LOST records, nested outputs and a throwing handler are handled. No kernel needed.
 */
class TimestampMergeRingsTest {
    private static final long MS = 1_000_000L;
    private static final int PAYLOAD = 16;

    private final Arena arena = Arena.ofConfined();

    record Out(int cpu, long ts, boolean late, long firstWord, byte[] bytes, long address) { }

    private final List<Out> out = new ArrayList<>();
    private final List<long[]> lostSeen = new ArrayList<>();
    private final OrderedPerfBuffer.Handler collect = (cpu, p, ts, late) -> out.add(
            new Out(cpu, ts, late, p.get(JAVA_LONG_UNALIGNED, 0), p.toArray(JAVA_BYTE), p.address()));

    @AfterEach
    void free() {
        arena.close();
    }

    /** One CPU's ring in ordinary memory: metadata page then a small data area, written as the kernel does. */
    final class Ring {
        final int dataSize;
        final MemorySegment mapping;
        final MemorySegment data;
        final PerfRing reader;
        long head;

        Ring(int cpu, int dataSize, long start) {
            this.dataSize = dataSize;
            mapping = arena.allocate(Sys.PAGE_SIZE + dataSize, Sys.PAGE_SIZE);
            data = mapping.asSlice(Sys.PAGE_SIZE, dataSize);
            mapping.set(JAVA_LONG, PerfLayout.DATA_OFFSET, Sys.PAGE_SIZE);
            mapping.set(JAVA_LONG, PerfLayout.DATA_SIZE, dataSize);
            mapping.set(JAVA_LONG, PerfLayout.DATA_TAIL, start);
            head = start;
            publish();
            reader = new PerfRing(cpu, mapping, arena.allocate(PerfLayout.MAX_RECORD_BYTES, 8), true, PAYLOAD, null);
        }

        private void putLong(long at, long v) {
            for (int i = 0; i < 8; i++) {
                data.set(JAVA_BYTE, (at + i) & (dataSize - 1), (byte) (v >>> (8 * i)));
            }
        }

        private void putInt(long at, int v) {
            for (int i = 0; i < 4; i++) {
                data.set(JAVA_BYTE, (at + i) & (dataSize - 1), (byte) (v >>> (8 * i)));
            }
        }

        /** A sample whose payload is its time, then bytes derived from it. */
        Ring sample(long time) {
            long raw = PerfLayout.rawSizeFor(PAYLOAD);
            int size = (int) (PerfLayout.rawSizeOffset(true) + 4 + raw);
            putInt(head, PerfLayout.RECORD_SAMPLE);
            putInt(head + 4, size << 16);
            putLong(head + PerfLayout.SAMPLE_TIME, time);
            long at = head + PerfLayout.rawSizeOffset(true);
            putInt(at, (int) raw);
            putLong(at + 4, time);
            putLong(at + 12, time * 31);  // bytes 8..15 of the payload (and 4 bytes of padding after)
            head += size;
            return this;
        }

        Ring lost(long count) {
            putInt(head, PerfLayout.RECORD_LOST);
            putInt(head + 4, 24 << 16);
            putLong(head + 8, 1);
            putLong(head + 16, count);
            head += 24;
            return this;
        }

        /** A record of {@code type} and {@code size} with only its header written (the rest is stale). */
        Ring bare(int type, int size) {
            putInt(head, type);
            putInt(head + 4, size << 16);
            head += size;
            return this;
        }

        void publish() {
            mapping.set(JAVA_LONG, PerfLayout.DATA_HEAD, head);
        }

        long tail() {
            return mapping.get(JAVA_LONG, PerfLayout.DATA_TAIL);
        }

        boolean holds(long address) {
            return address >= data.address() && address < data.address() + dataSize;
        }
    }

    private TimestampMerge merge(long window, Ring... rings) {
        PerfRing[] readers = new PerfRing[rings.length];
        for (int i = 0; i < rings.length; i++) {
            readers[i] = rings[i].reader;
        }
        return new TimestampMerge(readers, (cpu, n) -> lostSeen.add(new long[]{cpu, n}), window, 1 << 20);
    }

    private List<Long> times() {
        return out.stream().map(Out::ts).toList();
    }

    private static void assertIntact(Out o) {
        assertEquals(o.ts(), o.firstWord(), "payload of " + o.ts());
        assertEquals(o.ts() * 31, MemorySegment.ofArray(o.bytes()).get(JAVA_LONG_UNALIGNED, 8));
    }

    @Test
    void mergesRingsStraightFromTheMappingsAndHoldsWhatAnotherCpuMayStillPrecede() {
        Ring a = new Ring(0, 4096, 0);
        Ring b = new Ring(1, 4096, 0);
        a.sample(10).sample(30).sample(50).publish();
        b.sample(20).sample(40).publish();
        TimestampMerge m = merge(5 * MS, a, b);

        assertEquals(4, m.release(0, false, collect));
        assertEquals(List.of(10L, 20L, 30L, 40L), times());
        assertEquals(List.of(0, 1, 0, 1), out.stream().map(Out::cpu).toList());
        for (Out o : out) {
            assertIntact(o);
            assertTrue((o.cpu() == 0 ? a : b).holds(o.address()), "zero copy: " + o.ts() + " read in place");
        }
        assertEquals(1, m.held(), "50 waits: CPU 1 has shown only 40");
        assertEquals(a.head, a.tail(), "the held event was copied out, so the ring is free");
        assertEquals(b.head, b.tail());

        b.sample(45).sample(60).publish();
        assertEquals(2, m.release(0, false, collect), "45 from the ring, then the copy of 50");
        assertEquals(List.of(10L, 20L, 30L, 40L, 45L, 50L), times());
        assertIntact(out.getLast());
        assertFalse(a.holds(out.getLast().address()), "50 was held, so it comes from the copy");
        assertEquals(1, m.held(), "60 waits for CPU 0");
        assertEquals(1, m.release(0, true, collect));
        assertEquals(60, out.getLast().ts());
        assertEquals(0, m.late());
        assertEquals(7, m.released());
        assertEquals(3, a.reader.delivered(), "the ring's counter counts the samples read from it");
        assertEquals(4, b.reader.delivered());
    }

    @Test
    void releasesByTheWindowWhenACpuStaysSilent() {
        Ring a = new Ring(0, 4096, 0);
        Ring b = new Ring(1, 4096, 0);
        a.sample(10).sample(11).publish();
        TimestampMerge m = merge(5 * MS, a, b);
        assertEquals(0, m.release(100 * MS, false, collect));
        assertEquals(2, m.held());
        assertEquals(105 * MS, m.nextDeadline());
        assertEquals(2, m.release(105 * MS, false, collect));
        assertEquals(List.of(10L, 11L), times());
    }

    @Test
    void deliversARecordThatWrapsTheEndAndReportsLostOnesOnTheWay() {
        // Start 24 bytes before the end of a 256-byte area: the first 40-byte sample straddles the end.
        Ring a = new Ring(0, 256, 256 - 24);
        Ring b = new Ring(1, 256, 0);
        a.sample(10).lost(3).sample(30).sample(50).publish();
        b.sample(20).sample(40).sample(60).publish();
        TimestampMerge m = merge(5 * MS, a, b);
        assertEquals(6, m.release(0, true, collect));
        assertEquals(List.of(10L, 20L, 30L, 40L, 50L, 60L), times());
        out.forEach(TimestampMergeRingsTest::assertIntact);
        assertEquals(1, lostSeen.size());
        assertArrayEquals(new long[]{0, 3}, lostSeen.getFirst());
        assertEquals(3, a.reader.lost());
        assertEquals(3, a.reader.delivered());
        assertEquals(a.head, a.tail());
    }

    @Test
    void flagsASampleItsCpuWroteAfterANewerOneAndKeepsTheRestInOrder() {
        Ring a = new Ring(0, 4096, 0);
        Ring b = new Ring(1, 4096, 0);
        a.sample(10).sample(30).sample(20).publish();  // 20 nested inside 30's output: written after it
        b.sample(25).sample(40).publish();
        TimestampMerge m = merge(5 * MS, a, b);
        assertEquals(5, m.release(0, true, collect));
        assertEquals(List.of(10L, 25L, 30L, 20L, 40L), times());
        assertEquals(List.of(false, false, false, true, false), out.stream().map(Out::late).toList());
        assertEquals(1, m.late());
    }

    @Test
    void aThrowingHandlerConsumesItsEventAndLeavesTheRestForTheNextPass() {
        Ring a = new Ring(0, 4096, 0);
        Ring b = new Ring(1, 4096, 0);
        a.sample(10).sample(30).publish();
        b.sample(20).sample(40).publish();
        TimestampMerge m = merge(5 * MS, a, b);
        OrderedPerfBuffer.Handler failOn20 = (cpu, p, ts, late) -> {
            collect.onRecord(cpu, p, ts, late);
            if (ts == 20) {
                throw new IllegalStateException("handler failed");
            }
        };
        assertThrows(IllegalStateException.class, () -> m.release(0, true, failOn20));
        assertEquals(List.of(10L, 20L), times());
        assertEquals(2, m.released());
        assertEquals(m.release(0, true, collect), 2);
        assertEquals(List.of(10L, 20L, 30L, 40L), times(), "each once, in order");
        assertEquals(a.head, a.tail());
        assertEquals(b.head, b.tail());
    }

    @Test
    void mergesMoreThanTwoCpusInOrderThroughWrapsAndLostRecords() {
        Ring a = new Ring(0, 256, 256 - 24);
        Ring b = new Ring(1, 4096, 0);
        Ring c = new Ring(2, 4096, 0);
        a.sample(1).sample(4).lost(2).sample(7).sample(10).publish();
        b.sample(2).sample(3).sample(8).sample(12).publish();
        c.sample(5).sample(6).sample(9).sample(11).publish();
        TimestampMerge m = merge(5 * MS, a, b, c);
        assertEquals(10, m.release(0, false, collect), "12 waits: CPUs 0 and 2 have shown up to 10 and 11");
        assertEquals(List.of(1L, 2L, 3L, 4L, 5L, 6L, 7L, 8L, 9L, 10L), times());
        out.forEach(TimestampMergeRingsTest::assertIntact);
        assertEquals(2, m.held());
        assertEquals(2, m.release(0, true, collect));
        assertEquals(List.of(11L, 12L), times().subList(10, 12));
        assertEquals(2, a.reader.lost());
        assertEquals(0, m.late());
    }

    @Test
    void aHeaderOnlySampleAtTheEndOfTheDataAreaIsReportedAndTheMergeGoesOnAfterIt() {
        Ring a = new Ring(0, 256, 256 - 8);
        a.bare(PerfLayout.RECORD_SAMPLE, 8).sample(10).sample(20).publish();
        TimestampMerge m = merge(0, a);
        BpfException e = assertThrows(BpfException.class, () -> m.release(0, true, collect));
        assertTrue(e.getMessage().contains("CPU 0") && e.getMessage().contains("SAMPLE record of 8 bytes"),
                e.getMessage());
        assertEquals(2, m.release(0, true, collect));
        assertEquals(List.of(10L, 20L), times());
        assertEquals(2, a.reader.delivered(), "the skipped record is not counted");
        assertEquals(a.head, a.tail());
    }

    @Test
    void aTooShortLostRecordIsReportedInsteadOfReadingTheNextRecordAsItsCount() {
        Ring a = new Ring(0, 4096, 0);
        a.sample(10).bare(PerfLayout.RECORD_LOST, 16).sample(20).publish();
        TimestampMerge m = merge(0, a);
        BpfException e = assertThrows(BpfException.class, () -> m.release(0, true, collect));
        assertTrue(e.getMessage().contains("LOST record of 16 bytes"), e.getMessage());
        assertEquals(List.of(10L), times(), "what came before it was delivered");
        assertEquals(1, m.release(0, true, collect));
        assertEquals(List.of(10L, 20L), times());
        assertEquals(List.of(), lostSeen);
    }

    @Test
    void aHeadFarAheadOfTheTailIsReportedAndNoStaleSampleIsMerged() {
        Ring a = new Ring(0, 256, 0);
        Ring b = new Ring(1, 256, 0);
        for (int i = 1; i <= 6; i++) {
            a.sample(i * 10L);   // a full ring of well-formed samples, then a head 2^40 ahead
        }
        a.head = 1L << 40;
        a.publish();
        b.sample(15).publish();
        TimestampMerge m = merge(0, a, b);
        BpfException e = assertThrows(BpfException.class, () -> m.release(0, true, collect));
        assertTrue(e.getMessage().contains("CPU 0") && e.getMessage().contains("256-byte data area"),
                e.getMessage());
        assertEquals(a.head, a.tail(), "resynchronised on the head");
        assertEquals(1, m.release(0, true, collect));
        assertEquals(List.of(15L), times(), "only the other CPU's sample");
    }

    @Test
    void anUnalignedTailIsReportedAndResynchronised() {
        Ring a = new Ring(0, 4096, 0);
        a.sample(10).publish();
        a.mapping.set(JAVA_LONG, PerfLayout.DATA_TAIL, 2);
        TimestampMerge m = merge(0, a);
        BpfException e = assertThrows(BpfException.class, () -> m.release(0, true, collect));
        assertTrue(e.getMessage().contains("not 8-byte aligned"), e.getMessage());
        assertEquals(a.head, a.tail());
        assertEquals(0, m.release(0, true, collect));
    }
}
