package dev.panbpf.ringbuf;

import dev.panbpf.BpfException;
import org.junit.jupiter.api.Test;

import java.lang.foreign.ValueLayout;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Random record streams through the ring consumer over a fake ring, with and without corruption of what the
 * kernel (or a stranger with the map) writes. Every run must end in delivered records and/or a clear
 * {@link BpfException} within a bounded number of calls, never another exception (a read outside the mapping
 * would be an IndexOutOfBoundsException: the fake ring's segments are exactly the mapping's size). Clean streams
 * must arrive whole, in order, once each. Seeded: a failure names the seed that reproduces it.
 */
class RingFuzzTest {
    private static final long SEED = Long.getLong("panbpf.fuzz.seed", 0x5eed_2026L);
    private static final int RUNS = Integer.getInteger("panbpf.fuzz.runs", 1500);
    private static final int SIZE = 4096;

    @Test
    void cleanRandomStreamsArriveWholeInOrderOnce() {
        for (int run = 0; run < RUNS; run++) {
            long seed = SEED + run;
            try {
                fuzz(new SplittableRandom(seed), false);
            } catch (AssertionError | RuntimeException e) {
                throw new AssertionError("seed " + seed + " (rerun with -Dpanbpf.fuzz.seed=" + seed
                        + " -Dpanbpf.fuzz.runs=1): " + e, e);
            }
        }
    }

    @Test
    void corruptedStreamsEndInDeliveredRecordsOrAClearErrorWithinBoundedCalls() {
        int errors = 0;
        for (int run = 0; run < RUNS; run++) {
            long seed = SEED * 31 + run;
            try {
                errors += fuzz(new SplittableRandom(seed), true) ? 1 : 0;
            } catch (AssertionError | RuntimeException e) {
                throw new AssertionError("seed " + seed + " (corrupting; rerun with -Dpanbpf.fuzz.seed=...): " + e, e);
            }
        }
        assertTrue(errors > RUNS / 10, "only " + errors + " of " + RUNS + " corruptions were detected: the "
                + "injections are too weak to test anything");
    }

    /** One run; returns whether the reader reported corruption. */
    private static boolean fuzz(SplittableRandom rnd, boolean corrupt) {
        try (FakeRing ring = new FakeRing(SIZE)) {
            long start = rnd.nextBoolean() ? 0 : (rnd.nextLong(1L << 40)) & ~7L;
            ring.startAt(start);
            RingReader reader = ring.reader();
            ArrayDeque<Long> expected = new ArrayDeque<>();   // ids of committed, not discarded records, in order
            ArrayDeque<long[]> busy = new ArrayDeque<>();     // {pos, id, length, discard} reserved, not committed
            long nextId = 1;
            int corruptAt = corrupt ? rnd.nextInt(1, 60) : -1;
            boolean injected = false;
            int lastLength = 16;
            for (int step = 0; step < 80; step++) {
                // Produce a few records while there is room; half of them as long as the one before, so runs of
                // one length (the reader's fast path) are as common as changes of length.
                int burst = rnd.nextInt(0, 6);
                for (int k = 0; k < burst; k++) {
                    int length = rnd.nextBoolean() ? lastLength
                            : rnd.nextInt(10) == 0 ? rnd.nextInt(8, 1500) : rnd.nextInt(8, 120);
                    lastLength = length;
                    long used = ring.producerPos - ring.consumerPos();
                    if (used + RingLayout.stride(length) > SIZE) {
                        break;
                    }
                    long id = nextId++;
                    long pos = ring.reserve(length);
                    ring.fill(pos, FakeRing.payload(id, length));
                    boolean discard = rnd.nextInt(5) == 0;
                    if (rnd.nextInt(6) == 0 || !busy.isEmpty()) {
                        busy.add(new long[]{pos, id, 0, discard ? 1 : 0});
                    } else {
                        ring.commit(pos, discard);
                        if (!discard) {
                            expected.add(id);
                        }
                    }
                }
                // Commit the oldest pending ones sometimes (in reservation order, as the kernel's order of ids).
                while (!busy.isEmpty() && rnd.nextInt(3) != 0) {
                    long[] b = busy.poll();
                    ring.commit(b[0], b[3] == 1);
                    if (b[3] == 0) {
                        expected.add(b[1]);
                    }
                }
                if (step == corruptAt) {
                    inject(ring, rnd);
                    injected = true;
                }
                List<Long> got = new ArrayList<>();
                int limit = rnd.nextInt(4) == 0 ? rnd.nextInt(1, 4) : Integer.MAX_VALUE;
                try {
                    int n = reader.drain(r -> {
                        got.add(r.byteSize() >= 8 ? r.get(ValueLayout.JAVA_LONG_UNALIGNED, 0) : -1L);
                        return true;
                    }, limit);
                    assertEquals(got.size(), n);
                } catch (BpfException e) {
                    assertTrue(injected, "a clean stream was reported corrupt: " + e.getMessage());
                    assertTrue(e.getMessage().contains("ring buffer 'fake'"), "names the ring: " + e.getMessage());
                    // Any later call must fail the same way or make progress, never hang or read outside.
                    for (int again = 0; again < 3; again++) {
                        try {
                            reader.drain(r -> true, Integer.MAX_VALUE);
                        } catch (BpfException expectedAgain) {
                            // still corrupt: fine
                        }
                    }
                    return true;
                }
                if (!injected) {
                    for (long id : got) {
                        assertEquals(expected.poll(), id, "records out of order, duplicated or lost");
                    }
                    long consumer = ring.consumerPos();
                    assertTrue(ring.producerPos - consumer >= 0, "consumer passed the producer");
                }
            }
            if (!injected) {
                // Commit the rest and drain to the end: nothing may be missing.
                while (!busy.isEmpty()) {
                    long[] b = busy.poll();
                    ring.commit(b[0], b[3] == 1);
                    if (b[3] == 0) {
                        expected.add(b[1]);
                    }
                }
                List<Long> got = new ArrayList<>();
                reader.drain(r -> got.add(r.get(ValueLayout.JAVA_LONG_UNALIGNED, 0)), Integer.MAX_VALUE);
                for (long id : got) {
                    assertEquals(expected.poll(), id);
                }
                assertTrue(expected.isEmpty(), expected.size() + " records never arrived");
                assertEquals(ring.producerPos, ring.consumerPos());
            }
            return false;
        }
    }

    /** Changes one thing the kernel owns (or the consumer page a stranger could write) to a random bad value. */
    private static void inject(FakeRing ring, SplittableRandom rnd) {
        long consumer = ring.consumerPos();
        switch (rnd.nextInt(6)) {
            case 0 -> ring.writeHeader(consumer, rnd.nextInt());                            // any header bits
            case 1 -> ring.writeHeader(consumer, rnd.nextInt(SIZE, Integer.MAX_VALUE) & RingLayout.LENGTH_MASK);
            case 2 -> ring.setProducerPos(consumer + SIZE + 8 * rnd.nextInt(1, 1000));    // too far ahead
            case 3 -> ring.setProducerPos(consumer - 8 * rnd.nextInt(1, 1000));            // went back
            case 4 -> ring.setProducerPos(ring.producerPos + rnd.nextInt(1, 8));          // unaligned
            default -> ring.consumerPage.set(ValueLayout.JAVA_LONG, 0, consumer + 8 * rnd.nextInt(1, 50));
        }
    }
}
