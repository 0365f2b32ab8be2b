package dev.panbpf.perf;

import dev.panbpf.BpfException;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * A seeded fuzz of the perf record cursor, read as {@link PerfBuffer} reads a ring and as the ordered reader's
 * {@link TimestampMerge} reads two, over rings this test writes itself: random valid streams (samples of random
 * sizes, some wrapping the end, LOST and other records) into which one corruption is injected (a record's size,
 * type, raw size or declared length; the head or tail position), plus handlers that sometimes throw and sometimes
 * stop the read (returning false). Every run
 * must end within a bounded number of reads, raising nothing but BpfException (and the handler's own), handing
 * out payloads only from the data area or the scratch copy, and delivering every record before the corruption
 * exactly once, in order.
 *
 * <p>Reproduce a failure with {@code -Dpanbpf.fuzz.seed=<the seed printed> -Dpanbpf.fuzz.cases=1}.
 */
class PerfCursorFuzzTest {
    private static final long BASE_SEED = Long.getLong("panbpf.fuzz.seed", 0x5EED_2026L);
    private static final int CASES = Integer.getInteger("panbpf.fuzz.cases", 10_000);
    /** Reads allowed per run: every read makes progress (8 bytes at least) or ends the run. */
    private static final int MAX_READS = 2000;

    /** Events seen, with a handler that records each and sometimes throws. */
    static final class Seen {
        final List<FuzzedRing.Event> events = new ArrayList<>();
        final Random r;
        final FuzzedRing[] rings;
        /** Whether payloads may be the merge's copies of held events, rather than in a ring or its scratch. */
        boolean copies;

        Seen(Random r, FuzzedRing... rings) {
            this.r = r;
            this.rings = rings;
        }

        FuzzedRing ring(int cpu) {
            for (FuzzedRing ring : rings) {
                if (ring.cpu == cpu) {
                    return ring;
                }
            }
            throw new AssertionError("no CPU " + cpu);
        }

        boolean sample(int cpu, MemorySegment p) {
            assertTrue(copies || ring(cpu).holds(p), "payload outside the data area and scratch: " + p);
            assertTrue(p.isReadOnly(), "payloads are read-only");
            events.add(new FuzzedRing.Event(cpu, false, 0, p.toArray(JAVA_BYTE)));
            int dice = r.nextInt(40);
            if (dice == 0) {
                throw new FuzzedRing.HandlerFault();
            }
            return dice != 1;
        }

        void lost(int cpu, long n) {
            events.add(new FuzzedRing.Event(cpu, true, n, null));
        }

        List<FuzzedRing.Event> of(int cpu) {
            return events.stream().filter(e -> e.cpu() == cpu).toList();
        }
    }

    /** Reads until a read completes with every ring drained, or fails; returns the reads it took. */
    private static int readToTheEnd(Runnable read, FuzzedRing... rings) {
        for (int reads = 1; reads <= MAX_READS; reads++) {
            boolean threw = false;
            try {
                read.run();
            } catch (BpfException | FuzzedRing.HandlerFault expected) {
                threw = true;
            }
            boolean drained = true;
            for (FuzzedRing ring : rings) {
                drained &= ring.tail() == ring.publishedHead();
            }
            if (!threw && drained) {
                boolean later = false;
                for (FuzzedRing ring : rings) {
                    if (ring.laterHead >= 0) {
                        ring.mapping.set(JAVA_LONG, PerfLayout.DATA_HEAD, ring.laterHead);
                        ring.laterHead = -1;
                        later = true;
                    }
                }
                if (!later) {
                    return reads;
                }
            }
        }
        throw new AssertionError("no end after " + MAX_READS + " reads");
    }

    private static void check(Seen seen, FuzzedRing ring) {
        if (!seen.copies) {
            check(seen.of(ring.cpu), ring.expected, ring.events, ring);
            return;
        }
        // A held sample goes out after the LOST records read behind it: each kind keeps its own order.
        for (boolean lost : new boolean[]{false, true}) {
            check(only(seen.of(ring.cpu), lost), only(ring.expected, lost), only(ring.events, lost), ring);
        }
    }

    private static void check(List<FuzzedRing.Event> got, List<FuzzedRing.Event> expected,
                              List<FuzzedRing.Event> all, FuzzedRing ring) {
        assertTrue(got.size() >= expected.size() && got.subList(0, expected.size()).equals(expected),
                "expected first " + expected + "\n got " + got);
        if (ring.corruption.equals("none")) {
            assertEquals(all, got, "an intact stream is delivered exactly");
        }
    }

    private static List<FuzzedRing.Event> only(List<FuzzedRing.Event> events, boolean lost) {
        return events.stream().filter(e -> e.lost() == lost).toList();
    }

    private static void runCases(String what, CaseBody body) {
        for (int i = 0; i < CASES; i++) {
            long seed = BASE_SEED + i;
            try (Arena arena = Arena.ofConfined()) {
                body.run(arena, new Random(seed), seed);
            } catch (Throwable t) {
                throw new AssertionError(what + " failed for seed " + seed + " (rerun with -Dpanbpf.fuzz.seed="
                        + seed + " -Dpanbpf.fuzz.cases=1): " + t, t);
            }
        }
    }

    @FunctionalInterface
    interface CaseBody {
        void run(Arena arena, Random r, long seed) throws Exception;
    }

    @Test
    void theCursorEndsEveryCorruptStreamWithItsValidPrefixDeliveredOnceAndNoRawException() {
        runCases("PerfCursor", (arena, r, seed) -> {
            FuzzedRing ring = new FuzzedRing(arena, 3, r, false);
            Seen seen = new Seen(r, ring);
            ring.onLost = seen::lost;
            PerfBuffer.Handler handler = (cpu, p, t) -> seen.sample(cpu, p);
            try {
                readToTheEnd(() -> Passes.drain(ring.reader, handler), ring);
                check(seen, ring);
                assertEquals(0, Passes.drain(ring.reader, handler), "a drained ring stays drained");
            } catch (Throwable t) {
                throw new AssertionError(ring.describe() + ": " + t.getMessage(), t);
            }
        });
    }

    @Test
    void theMergeEndsEveryCorruptStreamWithItsValidPrefixDeliveredOnceAndNoRawException() {
        runCases("TimestampMerge", (arena, r, seed) -> {
            FuzzedRing a = new FuzzedRing(arena, 0, r, true);
            FuzzedRing b = new FuzzedRing(arena, 1, r, true);
            Seen seen = new Seen(r, a, b);
            a.onLost = seen::lost;
            b.onLost = seen::lost;
            OrderedPerfBuffer.Handler handler = (cpu, p, ts, late) -> seen.sample(cpu, p);
            // No window releases all at once; a window without end holds what the rule holds, copied, until a flush.
            boolean holds = r.nextBoolean();
            seen.copies = holds;
            TimestampMerge merge = new TimestampMerge(new PerfCursor[]{a.reader, b.reader},
                    holds ? Long.MAX_VALUE : 0, 1 << r.nextInt(6, 20));
            try {
                readToTheEnd(() -> Passes.pass(merge, handler, 0, r.nextInt(4) == 0), a, b);
                for (int flushes = 0; merge.held() > 0; flushes++) {
                    assertTrue(flushes < MAX_READS, "held events that no flush releases");
                    try {
                        Passes.pass(merge, handler, 0, true);
                    } catch (FuzzedRing.HandlerFault expected) {
                        // the event whose handler threw counts as delivered; the rest stay held
                    }
                }
                check(seen, a);
                check(seen, b);
                assertEquals(0, merge.held());
                assertEquals(0, Passes.pass(merge, handler, 0, true), "drained rings stay drained");
            } catch (Throwable t) {
                throw new AssertionError(a.describe() + "; " + b.describe() + ": " + t.getMessage(), t);
            }
        });
    }
}
