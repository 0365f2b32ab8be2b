package dev.panbpf.perf;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;

/**
 * TimestampMerge is the ordered reader's rule: it turns the CPUs' streams into one in timestamp order. Each CPU
 * offers its head, the smaller of the sample its {@link PerfCursor} stands on (read in place) and the first of
 * its {@link HeldEvents} (copies from earlier passes; the held one first on a tie). The smallest head is
 * released while the rule of {@link OrderedPerfBuffer} allows: every CPU has shown a stamp at least as large
 * (only the CPUs with nothing to offer need asking: the others' heads are no smaller), or an event at least as
 * large was read at least the window ago, or the pass is a flush. When the rule stops, what the rings still hold
 * this pass is copied into the CPUs' held events, stamped with the pass's clock, and the rings' tails move past
 * it; when a CPU's copies reach their limit, the oldest held event goes early. An event older than one already
 * released (an output nested in another on its CPU, or one that came after a window closed) is released at once
 * and flagged late.
 *
 * <p>A pass is {@link #begin}, then {@link #next()} until it returns false (each true is an event to hand out:
 * {@link #cpu()}, {@link #payload()}, {@link #time()}, {@link #isLate()}), then {@link #end()} in {@code finally}.
 * A caller that stops early leaves the samples not yet released in the rings, and the held events held. Only the
 * consuming thread calls in.
 */
final class TimestampMerge {
    /** The head of a CPU with nothing to offer. */
    private static final long NONE = Long.MAX_VALUE;

    private final PerfCursor[] rings;
    private final HeldEvents[] held;
    // Per CPU: the largest stamp read from it so far (or Long.MIN_VALUE); during a pass, whether its cursor stands
    // on a sample neither released nor held yet and that sample's stamp, and the smallest stamp it offers or NONE.
    private final long[] seen;
    private final boolean[] standing;
    private final long[] ringTs;
    private final long[] heads;
    private final long windowNanos;
    private long lastReleased = Long.MIN_VALUE;
    /** The largest stamp among the events read at least the window ago. */
    private long expired = Long.MIN_VALUE;
    private long late;

    private long now;
    /** What a pass may release regardless of the silent CPUs: the expired stamp, or everything. */
    private long bound;
    private int begun;
    private boolean spilling;
    /**
     * The CPU released from last, and the stamp up to which it stays first: the scan that chose it found every
     * other CPU's head and the rule's limit no smaller, and only that CPU's head has moved since.
     */
    private int last;
    private long runBound;
    /** The CPU whose ring sample went out last: its cursor moves on at the next call. -1 for none. */
    private int step = -1;
    // The event released last.
    private int from;
    private boolean fromRing;
    private long time;
    private boolean isLate;

    /**
     * A merge of {@code rings} (which must carry timestamps), holding each event at most {@code windowNanos}
     * after it was read (Long.MAX_VALUE: until the rule or a flush releases it) and at most {@code maxHeldBytes}
     * of payload per CPU.
     */
    TimestampMerge(PerfCursor[] rings, long windowNanos, long maxHeldBytes) {
        this.rings = rings;
        this.held = new HeldEvents[rings.length];
        for (int i = 0; i < rings.length; i++) {
            held[i] = new HeldEvents(maxHeldBytes);
        }
        this.seen = new long[rings.length];
        Arrays.fill(seen, Long.MIN_VALUE);
        this.standing = new boolean[rings.length];
        this.ringTs = new long[rings.length];
        this.heads = new long[rings.length];
        this.windowNanos = windowNanos;
    }

    /**
     * Starts a pass at {@code now} (System.nanoTime): takes every ring's head before deciding anything, so a
     * window that closed while nobody read lets no event out ahead of an older one still in another ring. With
     * {@code flush}, the pass releases everything.
     */
    void begin(long now, boolean flush) {
        this.now = now;
        begun = 0;
        spilling = false;
        step = -1;
        last = -1;
        for (int i = 0; i < rings.length; i++) {
            rings[i].begin();
            begun = i + 1;
            advance(i);
        }
        // Everything read this pass was read now: with no window it has all expired already.
        bound = flush || windowNanos == 0 ? Long.MAX_VALUE : expiredBound(now);
    }

    /** Finds the next event to release; false when the rule holds the rest (copied in by then) or nothing is left. */
    boolean next() {
        if (step >= 0) {
            int s = step;
            step = -1;
            advance(s);
        }
        if (!spilling) {
            int c = last;
            if (c >= 0) {
                long h = heads[c];
                if (h != NONE && h <= runBound && h >= lastReleased) {
                    return releaseHead(c, h);
                }
            }
            int best = -1;
            long t = NONE;
            long second = NONE;
            long quiet = NONE;
            for (int i = 0; i < heads.length; i++) {
                long h = heads[i];
                if (h == NONE) {
                    quiet = Math.min(quiet, seen[i]);  // silent: it might still write something older
                } else if (h < t) {
                    second = t;
                    t = h;
                    best = i;
                } else if (h < second) {
                    second = h;
                }
            }
            long limit = Math.max(bound, quiet);
            if (best >= 0 && (t <= limit || t < lastReleased)) {
                last = best;
                runBound = Math.min(second, limit);
                return releaseHead(best, t);
            }
            spilling = true;
        }
        return spill();
    }

    /** Releases CPU {@code i}'s head, of stamp {@code t}: its held one on a tie, as it was read first. */
    private boolean releaseHead(int i, long t) {
        return release(i, standing[i] && (held[i].isEmpty() || ringTs[i] < held[i].headTs()), t);
    }

    /** Copies what the rings still hold this pass into the held events, releasing late and forced events on the way. */
    private boolean spill() {
        for (int i = 0; i < rings.length; i++) {
            while (standing[i]) {
                long t = ringTs[i];
                if (t < lastReleased) {
                    return release(i, true, t);
                }
                PerfCursor c = rings[i];
                if (!held[i].add(c.base(), c.offset(), c.size(), t, now)) {
                    return releaseOldestHeld();  // then the add is tried again
                }
                advance(i);
            }
        }
        return false;
    }

    /** Releases the held event with the smallest stamp, whatever the rule says (the memory limit). */
    private boolean releaseOldestHeld() {
        int best = -1;
        for (int i = 0; i < held.length; i++) {
            if (!held[i].isEmpty() && (best < 0 || held[i].headTs() < held[best].headTs())) {
                best = i;
            }
        }
        return release(best, false, held[best].headTs());
    }

    private boolean release(int i, boolean ring, long t) {
        from = i;
        fromRing = ring;
        time = t;
        isLate = t < lastReleased;
        if (isLate) {
            late++;
        } else {
            lastReleased = t;
        }
        if (ring) {
            standing[i] = false;
            step = i;
        } else {
            held[i].take();
            refresh(i);
        }
        return true;
    }

    /** Moves CPU {@code i}'s cursor to its next sample (LOST records on the way are reported). */
    private void advance(int i) {
        standing[i] = false;  // what it stood on is taken (or held) already, even if next() throws
        boolean has = rings[i].next();
        standing[i] = has;
        if (has) {
            long t = rings[i].time();
            ringTs[i] = t;
            seen[i] = Math.max(seen[i], t);
        }
        refresh(i);
    }

    private void refresh(int i) {
        HeldEvents q = held[i];
        heads[i] = Math.min(standing[i] ? ringTs[i] : NONE, q.isEmpty() ? NONE : q.headTs());
    }

    /** Ends the pass: samples neither released nor held go back to their rings, and every tail is published. */
    void end() {
        for (int i = 0; i < begun; i++) {
            if (standing[i]) {
                standing[i] = false;
                rings[i].putBack();
            }
            rings[i].end();
        }
        begun = 0;
        step = -1;
    }

    /** The CPU, payload (valid until the next call), stamp and lateness of the event {@link #next()} released. */
    int cpu() {
        return rings[from].cpu;
    }

    MemorySegment payload() {
        MemorySegment base;
        long offset;
        long size;
        if (fromRing) {
            PerfCursor c = rings[from];
            base = c.base();
            offset = c.offset();
            size = c.size();
        } else {
            HeldEvents q = held[from];
            base = q.base();
            offset = q.takenOffset();
            size = q.takenSize();
        }
        return base.asSlice(offset, size);  // one slice, made where the handler is called: often never allocated
    }

    long time() {
        return time;
    }

    boolean isLate() {
        return isLate;
    }

    /** The largest stamp among held events whose window has closed at {@code now}. */
    private long expiredBound(long now) {
        if (windowNanos == Long.MAX_VALUE) {
            return expired;  // a window without end: nothing is released by age
        }
        long cutoff = now - windowNanos;
        for (HeldEvents q : held) {
            expired = q.expiredUpTo(cutoff, expired);
        }
        return expired;
    }

    /** When the next held event's window closes (System.nanoTime), or Long.MAX_VALUE when nothing waits on one. */
    long nextDeadline() {
        long oldest = Long.MAX_VALUE;
        for (HeldEvents q : held) {
            long a = q.oldestOpen();
            if (a != Long.MAX_VALUE && (oldest == Long.MAX_VALUE || a - oldest < 0)) {
                oldest = a;
            }
        }
        if (oldest == Long.MAX_VALUE || windowNanos == Long.MAX_VALUE) {
            return Long.MAX_VALUE;
        }
        long at = oldest + windowNanos;
        // An instant that overflows is centuries away: as good as never.
        return ((oldest ^ at) & (windowNanos ^ at)) < 0 ? Long.MAX_VALUE : at;
    }

    /** Events held now, and events released late. */
    long held() {
        long n = 0;
        for (HeldEvents q : held) {
            n += q.size();
        }
        return n;
    }

    long late() {
        return late;
    }
}
