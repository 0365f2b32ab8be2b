package dev.panbpf.perf;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED;
import static org.junit.jupiter.api.Assertions.*;

/**
 * The merge's release rule with a clock the test controls (each pass is told the time it reads at): what it
 * holds, what it lets out and when, what it flags late, and that payload bytes survive its copying, compaction
 * and growth. Events are written into fake rings, so they reach the merge as the kernel's would. No kernel needed.
 */
class TimestampMergeTest {
    private static final long MS = 1_000_000L;

    record Out(int cpu, long ts, boolean late, byte[] bytes) { }

    private final List<Out> out = new ArrayList<>();
    private final OrderedPerfBuffer.Handler collect =
            (cpu, p, ts, late) -> out.add(new Out(cpu, ts, late, p.toArray(JAVA_BYTE)));
    private final Arena arena = Arena.ofShared();
    private FakeRing[] rings;

    @AfterEach
    void free() {
        arena.close();
    }

    /** A merge over fake rings of {@code cpus} ({@code ringBytes} each), windowed and limited as given. */
    private TimestampMerge merge(int[] cpus, long window, long limit, int ringBytes) {
        rings = new FakeRing[cpus.length];
        PerfCursor[] cursors = new PerfCursor[cpus.length];
        for (int i = 0; i < cpus.length; i++) {
            rings[i] = new FakeRing(arena, cpus[i], ringBytes, true, 0);
            cursors[i] = rings[i].cursor(PerfOptions.defaults());
        }
        return new TimestampMerge(cursors, window, limit);
    }

    private TimestampMerge merge(int cpus, long window) {
        int[] ids = new int[cpus];
        for (int i = 0; i < cpus; i++) {
            ids[i] = i;
        }
        return merge(ids, window, 1 << 20, 1 << 16);
    }

    /** Writes an event into ring {@code i}: its first 8 bytes are the timestamp, the rest a pattern from it. */
    private void write(int i, long ts, int size) {
        byte[] b = new byte[size];
        for (int k = 0; k < size; k++) {
            b[k] = (byte) (ts * 31 + k);
        }
        if (size >= 8) {
            MemorySegment.ofArray(b).set(JAVA_LONG_UNALIGNED, 0, ts);
        }
        rings[i].sample(b, ts).publish();
    }

    private static void assertPayload(Out o, int size) {
        // A raw area is padded to 4 bytes before an 8-byte boundary: the program's bytes come first.
        assertTrue(o.bytes().length >= size && o.bytes().length <= size + 7, "length " + o.bytes().length);
        for (int i = size >= 8 ? 8 : 0; i < size; i++) {
            assertEquals((byte) (o.ts() * 31 + i), o.bytes()[i], "byte " + i + " of event " + o.ts());
        }
        if (size >= 8) {
            assertEquals(o.ts(), MemorySegment.ofArray(o.bytes()).get(JAVA_LONG_UNALIGNED, 0));
        }
    }

    private List<Long> times() {
        return out.stream().map(Out::ts).toList();
    }

    @Test
    void releasesAnEventOnceEveryCpuHasShownALaterStamp() {
        TimestampMerge m = merge(2, 5 * MS);
        write(0, 10, 16);
        write(0, 30, 16);
        assertEquals(0, Passes.pass(m, collect, 0, false), "CPU 1 has shown nothing yet");
        write(1, 20, 16);
        assertEquals(2, Passes.pass(m, collect, 0, false), "10 and 20 are safe; 30 waits for CPU 1 to pass it");
        assertEquals(List.of(10L, 20L), times());
        write(1, 40, 16);
        assertEquals(1, Passes.pass(m, collect, 0, false));
        assertEquals(30, out.getLast().ts());
        assertEquals(1, m.held());
    }

    @Test
    void releasesAfterTheWindowWhenACpuStaysIdle() {
        TimestampMerge m = merge(2, 5 * MS);
        write(0, 10, 16);
        assertEquals(0, Passes.pass(m, collect, 100 * MS, false));
        write(0, 11, 16);
        assertEquals(0, Passes.pass(m, collect, 101 * MS, false));
        assertEquals(0, Passes.pass(m, collect, 104 * MS, false));
        assertEquals(105 * MS, m.nextDeadline());
        assertEquals(1, Passes.pass(m, collect, 105 * MS, false), "the first event's window closed");
        assertEquals(106 * MS, m.nextDeadline());
        assertEquals(1, Passes.pass(m, collect, 106 * MS, false));
        assertEquals(Long.MAX_VALUE, m.nextDeadline(), "nothing held");
    }

    @Test
    void anExpiredEventAlsoReleasesOlderOnesHeldOnOtherCpus() {
        TimestampMerge m = merge(3, 5 * MS);
        write(0, 9, 16);                                   // read first
        assertEquals(0, Passes.pass(m, collect, 0, false));
        write(1, 5, 16);                                   // read later, but older
        assertEquals(0, Passes.pass(m, collect, 3 * MS, false));
        assertEquals(2, Passes.pass(m, collect, 5 * MS, false), "9's window closed, so 5 must go first");
        assertEquals(List.of(5L, 9L), times());
    }

    @Test
    void sortsACpuStreamThatTheKernelWroteOutOfOrder() {
        TimestampMerge m = merge(2, 5 * MS);   // CPU 1 stays silent, so CPU 0's events are all held
        for (long ts : new long[]{10, 30, 20, 25, 5, 40}) {
            write(0, ts, 24);
        }
        assertEquals(0, Passes.pass(m, collect, 0, false));
        assertEquals(6, m.held());
        assertEquals(6, Passes.pass(m, collect, 10 * MS, false));
        assertEquals(List.of(5L, 10L, 20L, 25L, 30L, 40L), times());
        out.forEach(o -> assertPayload(o, 24));
        assertEquals(0, m.late());
    }

    @Test
    void flagsAnEventOlderThanOneAlreadyReleasedAndDeliversItAtOnce() {
        TimestampMerge m = merge(2, 5 * MS);
        write(0, 50, 16);
        assertEquals(0, Passes.pass(m, collect, 0, false));
        assertEquals(1, Passes.pass(m, collect, 5 * MS, false));
        write(1, 40, 16);
        assertEquals(1, Passes.pass(m, collect, 6 * MS, false), "handed out as soon as it is read");
        assertEquals(new Out(1, 40, true, out.getLast().bytes()), out.getLast());
        assertPayload(out.getLast(), 16);
        assertEquals(1, m.late());
        assertEquals(2, out.size());
        assertEquals(0, m.held());
        write(1, 50, 16);
        assertEquals(1, Passes.pass(m, collect, 6 * MS, false));
        assertFalse(out.getLast().late(), "an equal stamp is not late");
    }

    @Test
    void flushReleasesEverythingInOrder() {
        TimestampMerge m = merge(2, 5 * MS);
        write(1, 7, 16);
        write(0, 3, 16);
        write(0, 9, 16);
        assertEquals(3, Passes.pass(m, collect, 0, true));
        assertEquals(List.of(3L, 7L, 9L), times());
        assertEquals(0, m.held());
    }

    @Test
    void keepsPayloadsIntactWhileItsSpaceWrapsCompactsAndGrows() {
        TimestampMerge m = merge(new int[]{0, 1}, 5 * MS, 1L << 30, 1 << 22);
        Random r = new Random(7);
        long ts = 0;
        List<Integer> sizes = new ArrayList<>();
        for (int round = 0; round < 50; round++) {
            int burst = 1 + r.nextInt(3000);    // bursts large enough to grow both the entries and the bytes
            for (int i = 0; i < burst; i++) {
                int size = 1 + r.nextInt(i % 97 == 0 ? 20000 : 200);
                ts++;
                sizes.add(size);
                // CPU 1 writes seldom: CPU 0's events past its last one are held, and its queue rarely empties.
                write(r.nextInt(10) == 0 ? 1 : 0, ts, size);
            }
            Passes.pass(m, collect, 0, round % 5 == 4);
        }
        Passes.pass(m, collect, 0, true);
        assertEquals(sizes.size(), out.size());
        for (int i = 0; i < out.size(); i++) {
            assertEquals(i + 1, out.get(i).ts());
            assertPayload(out.get(i), sizes.get(i));
        }
    }

    @Test
    void releasesTheOldestEarlyRatherThanHoldMoreThanItsLimit() {
        long limit = 1 << 20;
        TimestampMerge m = merge(new int[]{0, 1}, 5 * MS, limit, 1 << 22);
        for (long ts = 1; ts <= 200; ts++) {
            write(0, ts, 16000);   // CPU 1 stays silent: the rule would hold all
        }
        int early = Passes.pass(m, collect, 0, false);
        assertTrue(early > 0, "the limit forced releases the rule would have held");
        assertTrue(m.held() * 16000 <= limit, "held " + m.held());
        Passes.pass(m, collect, 0, true);
        assertEquals(200, out.size());
        for (int i = 0; i < out.size(); i++) {
            assertEquals(i + 1, out.get(i).ts());
            assertFalse(out.get(i).late());
            assertPayload(out.get(i), 16000);
        }
    }

    @Test
    void randomInterleavingsComeOutOnceEachAndInOrderUnlessFlaggedLate() {
        Random r = new Random(42);
        for (int trial = 0; trial < 20; trial++) {
            out.clear();
            int cpus = 1 + r.nextInt(6);
            int[] ids = new int[cpus];
            for (int i = 0; i < cpus; i++) {
                ids[i] = i * 3;   // sparse CPU numbers
            }
            TimestampMerge m = merge(ids, 2 * MS, 1 << 24, 1 << 16);
            long[] next = new long[cpus];
            long now = 0;
            Set<Long> sent = new HashSet<>();
            for (int step = 0; step < 3000; step++) {
                now += r.nextInt(200_000);
                int c = r.nextInt(cpus);
                // each CPU's clock advances; occasionally a stamp is taken long before it is read
                next[c] = Math.max(next[c], now - r.nextInt(r.nextInt(20) == 0 ? 10_000_000 : 500_000));
                long ts = next[c] * 8 + c;    // distinct stamps
                next[c]++;
                sent.add(ts);
                write(c, ts, 8 + r.nextInt(40));
                if (r.nextInt(10) == 0) {
                    Passes.pass(m, collect, now, false);
                }
            }
            Passes.pass(m, collect, now, true);
            assertEquals(sent.size(), out.size());
            assertEquals(sent, new HashSet<>(times()));
            long last = Long.MIN_VALUE;
            long late = 0;
            for (Out o : out) {
                if (o.late()) {
                    late++;
                    assertTrue(o.ts() < last, "flagged late only when older than one already out");
                } else {
                    assertTrue(o.ts() >= last, "in order");
                    last = o.ts();
                }
            }
            assertEquals(late, m.late());
            assertEquals(0, m.held());
        }
    }
}
