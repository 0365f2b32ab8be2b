package dev.panbpf.perf;

import dev.panbpf.BpfException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
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

    /** One CPU's ring in ordinary memory, and its cursor with 16-byte payloads, as the kernel writes them. */
    final class Ring {
        final FakeRing fake;
        final PerfCursor reader;

        Ring(int cpu, int dataSize, long start) {
            fake = new FakeRing(arena, cpu, dataSize, true, start);
            reader = fake.cursor(PerfOptions.defaults().payloadSize(PAYLOAD)
                    .onLost((c, n) -> lostSeen.add(new long[]{c, n})));
        }

        /** A sample whose payload is its time, then bytes derived from it. */
        Ring sample(long time) {
            MemorySegment p = MemorySegment.ofArray(new long[]{time, time * 31});
            fake.sample(p.toArray(JAVA_BYTE), time);
            return this;
        }

        Ring lost(long count) {
            fake.lost(count);
            return this;
        }

        /** A record of {@code type} and {@code size} with only its header written (the rest is stale). */
        Ring bare(int type, int size) {
            fake.other(type, size);
            return this;
        }

        void publish() {
            fake.publish();
        }

        long head() {
            return fake.head;
        }

        long tail() {
            return fake.tail();
        }

        boolean holds(long address) {
            return fake.inData(address);
        }
    }

    private TimestampMerge merge(long window, Ring... rings) {
        PerfCursor[] readers = new PerfCursor[rings.length];
        for (int i = 0; i < rings.length; i++) {
            readers[i] = rings[i].reader;
        }
        return new TimestampMerge(readers, window, 1 << 20);
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

        assertEquals(4, Passes.pass(m, collect, 0, false));
        assertEquals(List.of(10L, 20L, 30L, 40L), times());
        assertEquals(List.of(0, 1, 0, 1), out.stream().map(Out::cpu).toList());
        for (Out o : out) {
            assertIntact(o);
            assertTrue((o.cpu() == 0 ? a : b).holds(o.address()), "zero copy: " + o.ts() + " read in place");
        }
        assertEquals(1, m.held(), "50 waits: CPU 1 has shown only 40");
        assertEquals(a.head(), a.tail(), "the held event was copied out, so the ring is free");
        assertEquals(b.head(), b.tail());

        b.sample(45).sample(60).publish();
        assertEquals(2, Passes.pass(m, collect, 0, false), "45 from the ring, then the copy of 50");
        assertEquals(List.of(10L, 20L, 30L, 40L, 45L, 50L), times());
        assertIntact(out.getLast());
        assertFalse(a.holds(out.getLast().address()), "50 was held, so it comes from the copy");
        assertEquals(1, m.held(), "60 waits for CPU 0");
        assertEquals(1, Passes.pass(m, collect, 0, true));
        assertEquals(60, out.getLast().ts());
        assertEquals(0, m.late());
        assertEquals(7, out.size());
    }

    @Test
    void releasesByTheWindowWhenACpuStaysSilent() {
        Ring a = new Ring(0, 4096, 0);
        Ring b = new Ring(1, 4096, 0);
        a.sample(10).sample(11).publish();
        TimestampMerge m = merge(5 * MS, a, b);
        assertEquals(0, Passes.pass(m, collect, 100 * MS, false));
        assertEquals(2, m.held());
        assertEquals(105 * MS, m.nextDeadline());
        assertEquals(2, Passes.pass(m, collect, 105 * MS, false));
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
        assertEquals(6, Passes.pass(m, collect, 0, true));
        assertEquals(List.of(10L, 20L, 30L, 40L, 50L, 60L), times());
        out.forEach(TimestampMergeRingsTest::assertIntact);
        assertEquals(1, lostSeen.size());
        assertArrayEquals(new long[]{0, 3}, lostSeen.getFirst());
        assertEquals(3, a.reader.lost());
        assertEquals(a.head(), a.tail());
    }

    @Test
    void flagsASampleItsCpuWroteAfterANewerOneAndKeepsTheRestInOrder() {
        Ring a = new Ring(0, 4096, 0);
        Ring b = new Ring(1, 4096, 0);
        a.sample(10).sample(30).sample(20).publish();  // 20 nested inside 30's output: written after it
        b.sample(25).sample(40).publish();
        TimestampMerge m = merge(5 * MS, a, b);
        assertEquals(5, Passes.pass(m, collect, 0, true));
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
            return true;
        };
        assertThrows(IllegalStateException.class, () -> Passes.pass(m, failOn20, 0, true));
        assertEquals(List.of(10L, 20L), times());
        assertEquals(2, Passes.pass(m, collect, 0, true));
        assertEquals(List.of(10L, 20L, 30L, 40L), times(), "each once, in order");
        assertEquals(a.head(), a.tail());
        assertEquals(b.head(), b.tail());
    }

    /** A handler that collects and returns false after the {@code n}th event of the pass. */
    private OrderedPerfBuffer.Handler stopAfter(int n) {
        int[] calls = {0};
        return (cpu, p, ts, late) -> collect.onRecord(cpu, p, ts, late) && ++calls[0] < n;
    }

    @Test
    void aHandlerThatReturnsFalseLeavesTheRestInTheRingsOrHeldForTheNextPass() {
        Ring a = new Ring(0, 4096, 0);
        Ring b = new Ring(1, 4096, 0);
        a.sample(10).sample(30).sample(50).publish();
        b.sample(20).sample(40).publish();
        TimestampMerge m = merge(Long.MAX_VALUE, a, b);
        int record = 40;   // 8 header + 8 time + 4 raw size + 20 raw bytes
        assertEquals(2, Passes.pass(m, stopAfter(2), 0, false));
        assertEquals(List.of(10L, 20L), times());
        assertEquals(record, a.tail(), "30, read but not released, went back to its ring");
        assertEquals(record, b.tail());
        assertEquals(0, m.held());

        assertEquals(2, Passes.pass(m, collect, 0, false), "30 and 40; 50 waits for CPU 1");
        assertEquals(1, m.held());
        b.sample(60).sample(70).publish();
        assertEquals(1, Passes.pass(m, stopAfter(1), 0, true), "the held 50 goes first, then the handler stops");
        assertEquals(0, m.held());
        assertEquals(2 * record, b.tail(), "60 stays in its ring");
        assertEquals(2, Passes.pass(m, collect, 0, true));
        assertEquals(List.of(10L, 20L, 30L, 40L, 50L, 60L, 70L), times(), "each once, in order");
        assertTrue(out.stream().noneMatch(Out::late));
        assertEquals(List.of(0, 1, 0, 1, 0, 1, 1), out.stream().map(Out::cpu).toList());
        assertEquals(a.head(), a.tail());
        assertEquals(b.head(), b.tail());
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
        assertEquals(10, Passes.pass(m, collect, 0, false), "12 waits: CPUs 0 and 2 have shown up to 10 and 11");
        assertEquals(List.of(1L, 2L, 3L, 4L, 5L, 6L, 7L, 8L, 9L, 10L), times());
        out.forEach(TimestampMergeRingsTest::assertIntact);
        assertEquals(2, m.held());
        assertEquals(2, Passes.pass(m, collect, 0, true));
        assertEquals(List.of(11L, 12L), times().subList(10, 12));
        assertEquals(2, a.reader.lost());
        assertEquals(0, m.late());
    }

    @Test
    void aHeaderOnlySampleAtTheEndOfTheDataAreaIsReportedAndTheMergeGoesOnAfterIt() {
        Ring a = new Ring(0, 256, 256 - 8);
        a.bare(PerfLayout.RECORD_SAMPLE, 8).sample(10).sample(20).publish();
        TimestampMerge m = merge(0, a);
        BpfException e = assertThrows(BpfException.class, () -> Passes.pass(m, collect, 0, true));
        assertTrue(e.getMessage().contains("CPU 0") && e.getMessage().contains("SAMPLE record of 8 bytes"),
                e.getMessage());
        assertEquals(2, Passes.pass(m, collect, 0, true));
        assertEquals(List.of(10L, 20L), times(), "the skipped record is not delivered");
        assertEquals(a.head(), a.tail());
    }

    @Test
    void aTooShortLostRecordIsReportedInsteadOfReadingTheNextRecordAsItsCount() {
        Ring a = new Ring(0, 4096, 0);
        a.sample(10).bare(PerfLayout.RECORD_LOST, 16).sample(20).publish();
        TimestampMerge m = merge(0, a);
        BpfException e = assertThrows(BpfException.class, () -> Passes.pass(m, collect, 0, true));
        assertTrue(e.getMessage().contains("LOST record of 16 bytes"), e.getMessage());
        assertEquals(List.of(10L), times(), "what came before it was delivered");
        assertEquals(1, Passes.pass(m, collect, 0, true));
        assertEquals(List.of(10L, 20L), times());
        assertEquals(List.of(), lostSeen);
    }

    @Test
    void aRecordThatCannotBeMetWhileCopyingHeldEventsLeavesNothingToBeReadTwice() {
        Ring a = new Ring(0, 4096, 0);
        Ring b = new Ring(1, 4096, 0);
        a.sample(10).sample(20).bare(9, 0);   // size 0: the next record cannot be found
        a.fake.head += 64;
        a.publish();
        b.sample(5).publish();
        TimestampMerge m = merge(Long.MAX_VALUE, a, b);
        BpfException e = assertThrows(BpfException.class, () -> Passes.pass(m, collect, 0, false));
        assertTrue(e.getMessage().contains("size 0"), e.getMessage());
        assertEquals(List.of(5L), times(), "10 and 20 wait for CPU 1, copied, when the bad record stops the pass");
        assertEquals(a.head(), a.tail(), "resynchronised on the head, not put back before 20");
        assertEquals(2, Passes.pass(m, collect, 0, true));
        assertEquals(List.of(5L, 10L, 20L), times(), "each once");
        assertEquals(0, Passes.pass(m, collect, 0, true));
    }

    @Test
    void aHeadFarAheadOfTheTailIsReportedAndNoStaleSampleIsMerged() {
        Ring a = new Ring(0, 256, 0);
        Ring b = new Ring(1, 256, 0);
        for (int i = 1; i <= 6; i++) {
            a.sample(i * 10L);   // a full ring of well-formed samples, then a head 2^40 ahead
        }
        a.fake.head = 1L << 40;
        a.publish();
        b.sample(15).publish();
        TimestampMerge m = merge(0, a, b);
        BpfException e = assertThrows(BpfException.class, () -> Passes.pass(m, collect, 0, true));
        assertTrue(e.getMessage().contains("CPU 0") && e.getMessage().contains("256-byte data area"),
                e.getMessage());
        assertEquals(a.head(), a.tail(), "resynchronised on the head");
        assertEquals(1, Passes.pass(m, collect, 0, true));
        assertEquals(List.of(15L), times(), "only the other CPU's sample");
    }

    @Test
    void anUnalignedTailIsReportedAndResynchronised() {
        Ring a = new Ring(0, 4096, 0);
        a.sample(10).publish();
        a.fake.setTail(2);
        TimestampMerge m = merge(0, a);
        BpfException e = assertThrows(BpfException.class, () -> Passes.pass(m, collect, 0, true));
        assertTrue(e.getMessage().contains("not 8-byte aligned"), e.getMessage());
        assertEquals(a.head(), a.tail());
        assertEquals(0, Passes.pass(m, collect, 0, true));
    }
}
