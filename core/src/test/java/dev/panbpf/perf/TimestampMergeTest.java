package dev.panbpf.perf;

import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.*;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED;

/**
 * The merge's release rule with a clock the test controls: what it holds, what it lets out and when, what it
 * flags late, and that payload bytes survive its copying and growth. No kernel needed.
 */
class TimestampMergeTest {
    private static final long MS = 1_000_000L;

    record Out(int cpu, long ts, boolean late, byte[] bytes) { }

    private final List<Out> out = new ArrayList<>();
    private final OrderedPerfBuffer.Handler collect =
            (cpu, p, ts, late) -> out.add(new Out(cpu, ts, late, p.toArray(JAVA_BYTE)));
    private final Arena arena = Arena.ofAuto();

    /** A payload whose first 8 bytes are the timestamp and the rest a pattern derived from it. */
    private MemorySegment payload(long ts, int size) {
        MemorySegment s = arena.allocate(size);
        for (int i = 0; i < size; i++) {
            s.set(JAVA_BYTE, i, (byte) (ts * 31 + i));
        }
        if (size >= 8) {
            s.set(JAVA_LONG_UNALIGNED, 0, ts);
        }
        return s;
    }

    private static void assertPayload(Out o, int size) {
        assertEquals(size, o.bytes().length);
        int from = size >= 8 ? 8 : 0;
        for (int i = from; i < size; i++) {
            assertEquals((byte) (o.ts() * 31 + i), o.bytes()[i], "byte " + i + " of event " + o.ts());
        }
        if (size >= 8) {
            assertEquals(o.ts(), MemorySegment.ofArray(o.bytes()).get(JAVA_LONG_UNALIGNED, 0));
        }
    }

    @Test
    void releasesAnEventOnceEveryCpuHasShownALaterStamp() {
        TimestampMerge m = new TimestampMerge(new int[]{0, 1}, 5 * MS, 1 << 20);
        m.add(0, payload(10, 16), 10, 0, collect);
        m.add(0, payload(30, 16), 30, 0, collect);
        assertEquals(0, m.release(0, false, collect), "CPU 1 has shown nothing yet");
        m.add(1, payload(20, 16), 20, 0, collect);
        assertEquals(2, m.release(0, false, collect), "10 and 20 are safe; 30 waits for CPU 1 to pass it");
        assertEquals(List.of(10L, 20L), out.stream().map(Out::ts).toList());
        m.add(1, payload(40, 16), 40, 0, collect);
        assertEquals(1, m.release(0, false, collect));
        assertEquals(30, out.getLast().ts());
        assertEquals(1, m.held());
    }

    @Test
    void releasesAfterTheWindowWhenACpuStaysIdle() {
        TimestampMerge m = new TimestampMerge(new int[]{0, 1}, 5 * MS, 1 << 20);
        m.add(0, payload(10, 16), 10, 100 * MS, collect);
        m.add(0, payload(11, 16), 11, 101 * MS, collect);
        assertEquals(0, m.release(104 * MS, false, collect));
        assertEquals(105 * MS, m.nextDeadline());
        assertEquals(1, m.release(105 * MS, false, collect), "the first event's window closed");
        assertEquals(106 * MS, m.nextDeadline());
        assertEquals(1, m.release(106 * MS, false, collect));
        assertEquals(Long.MAX_VALUE, m.nextDeadline(), "nothing held");
    }

    @Test
    void anExpiredEventAlsoReleasesOlderOnesHeldOnOtherCpus() {
        TimestampMerge m = new TimestampMerge(new int[]{0, 1, 2}, 5 * MS, 1 << 20);
        m.add(1, payload(5, 16), 5, 3 * MS, collect);     // read late, but older
        m.add(0, payload(9, 16), 9, 0, collect);          // read first
        assertEquals(2, m.release(5 * MS, false, collect), "9's window closed, so 5 must go first");
        assertEquals(List.of(5L, 9L), out.stream().map(Out::ts).toList());
    }

    @Test
    void sortsACpuStreamThatTheKernelWroteOutOfOrder() {
        TimestampMerge m = new TimestampMerge(new int[]{0}, 5 * MS, 1 << 20);
        for (long ts : new long[]{10, 30, 20, 25, 5, 40}) {
            m.add(0, payload(ts, 24), ts, 0, collect);
        }
        assertEquals(6, m.release(10 * MS, false, collect));
        assertEquals(List.of(5L, 10L, 20L, 25L, 30L, 40L), out.stream().map(Out::ts).toList());
        out.forEach(o -> assertPayload(o, 24));
        assertEquals(0, m.late());
    }

    @Test
    void flagsAnEventOlderThanOneAlreadyReleasedAndDeliversItAtOnce() {
        TimestampMerge m = new TimestampMerge(new int[]{0, 1}, 5 * MS, 1 << 20);
        m.add(0, payload(50, 16), 50, 0, collect);
        m.release(5 * MS, false, collect);
        assertEquals(1, m.add(1, payload(40, 16), 40, 6 * MS, collect), "handed out during add");
        assertEquals(new Out(1, 40, true, out.getLast().bytes()), out.getLast());
        assertPayload(out.getLast(), 16);
        assertEquals(1, m.late());
        assertEquals(2, m.released());
        assertEquals(0, m.held());
        m.add(1, payload(50, 16), 50, 6 * MS, collect);
        m.release(6 * MS, false, collect);
        assertFalse(out.getLast().late(), "an equal stamp is not late");
    }

    @Test
    void flushReleasesEverythingInOrder() {
        TimestampMerge m = new TimestampMerge(new int[]{0, 1}, 5 * MS, 1 << 20);
        m.add(1, payload(7, 16), 7, 0, collect);
        m.add(0, payload(3, 16), 3, 0, collect);
        m.add(0, payload(9, 16), 9, 0, collect);
        assertEquals(3, m.release(0, true, collect));
        assertEquals(List.of(3L, 7L, 9L), out.stream().map(Out::ts).toList());
    }

    @Test
    void keepsPayloadsIntactWhileItsSpaceWrapsAndGrows() {
        TimestampMerge m = new TimestampMerge(new int[]{0, 1}, 5 * MS, 1L << 30);
        Random r = new Random(7);
        long ts = 0;
        List<Integer> sizes = new ArrayList<>();
        for (int round = 0; round < 50; round++) {
            int burst = 1 + r.nextInt(3000);    // bursts large enough to grow both the entries and the bytes
            for (int i = 0; i < burst; i++) {
                int size = 1 + r.nextInt(i % 97 == 0 ? 20000 : 200);
                ts++;
                sizes.add(size);
                m.add((int) (ts & 1), payload(ts, size), ts, 0, collect);
            }
            m.release(0, round % 5 == 4, collect);
        }
        m.release(0, true, collect);
        assertEquals(sizes.size(), out.size());
        for (int i = 0; i < out.size(); i++) {
            assertEquals(i + 1, out.get(i).ts());
            assertPayload(out.get(i), sizes.get(i));
        }
    }

    @Test
    void releasesTheOldestEarlyRatherThanHoldMoreThanItsLimit() {
        long limit = 1 << 20;
        TimestampMerge m = new TimestampMerge(new int[]{0, 1}, 5 * MS, limit);
        for (long ts = 1; ts <= 200; ts++) {
            m.add(0, payload(ts, 16000), ts, 0, collect);   // CPU 1 stays silent: the rule would hold all
        }
        assertTrue(m.forced() > 0, "the limit forced releases");
        assertTrue(m.held() * 16000 <= limit, "held " + m.held());
        m.release(0, true, collect);
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
            TimestampMerge m = new TimestampMerge(ids, 2 * MS, 1 << 24);
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
                m.add(ids[c], payload(ts, 8 + r.nextInt(40)), ts, now, collect);
                if (r.nextInt(10) == 0) {
                    m.release(now, false, collect);
                }
            }
            m.release(now, true, collect);
            assertEquals(sent.size(), out.size());
            assertEquals(sent, new HashSet<>(out.stream().map(Out::ts).toList()));
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
        }
    }
}
