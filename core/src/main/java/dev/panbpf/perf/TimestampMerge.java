package dev.panbpf.perf;

import dev.panbpf.internal.ConsumerGate;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;

/**
 * TimestampMerge turns per-CPU event streams into one stream in timestamp order: a k-way merge whose sources are,
 * per CPU, the samples still in that CPU's perf ring (read in place, no copy) and the events held from earlier
 * passes in its {@link MergeLane} (copies, because a ring's bytes cannot be kept past a pass).
 *
 * <p>Release rule. Let {@code seen(c)} be the largest timestamp read from CPU {@code c} so far, and
 * {@code expired} the largest timestamp among held events read at least the reorder window {@code W} ago. The
 * event with the smallest timestamp {@code t} goes next while {@code t <= max(min over c of seen(c), expired)}.
 * The first bound is the merge proper: once every CPU has shown a stamp {@code >= t}, no CPU will (in order)
 * produce anything older than {@code t}. The second bounds the delay when some CPU is idle.
 *
 * <p>A pass ({@link #release}) reads each ring up to the head it finds, streaming through {@link PerfCursor}s: the
 * smallest head among the CPUs is delivered straight from its mapping, and the rule needs checking only against
 * CPUs whose sources ran dry (every other CPU's head is already {@code >= t}). What the rule holds back at the end
 * of the pass is copied into the lanes, stamped with the pass's clock reading, and the rings' tails move past it.
 * A ring's own samples are in time order except for outputs nested inside others (the kernel takes the time
 * first and the space second); such a sample, found after a newer one went out, is flagged late.
 *
 * <p>An event read with a timestamp below the last one released is late: it is handed out at once, flagged,
 * and counted, never dropped. Everything else comes out in non-decreasing timestamp order.
 *
 * <p>A handler that closes the reader's gate stops the pass after its call: nothing more is delivered, what was
 * not taken stays in the rings or the lanes, for the owner to count as dropped at close.
 *
 * <p>Only the consumer thread calls into this class.
 */
public final class TimestampMerge {
    private final MergeLane[] lanes;
    private final PerfCursor[] rings;
    private final PerfBuffer.LostHandler onLost;
    private final int[] laneOfCpu;
    private final long windowNanos;
    private final long maxLaneBytes;
    /** Per lane, during a pass: whether its ring is positioned on a sample not yet taken, and that sample's time. */
    private final boolean[] ringHas;
    private final long[] ringTs;
    /** The lanes that still have something to merge in the current pass. */
    private final int[] active;
    private final int[] single = new int[1];
    private final CursorMerge.Tally tally = new CursorMerge.Tally();
    private final ConsumerGate gate;
    private long lastReleased = Long.MIN_VALUE;
    private long expired = Long.MIN_VALUE;
    private long released;
    private long late;
    private long forced;

    /**
     * A merge over events {@link #add}ed for {@code cpus}, holding them up to {@code windowNanos}, at most
     * {@code maxLaneBytes} per CPU.
     */
    public TimestampMerge(int[] cpus, long windowNanos, long maxLaneBytes) {
        this(cpus, new PerfCursor[0], null, windowNanos, maxLaneBytes, new ConsumerGate("merge", () -> { }));
    }

    /**
     * A merge that also reads {@code rings} (which must carry timestamps) in each {@link #release}, reporting LOST
     * records to {@code onLost} (may be null); otherwise as {@link #TimestampMerge(int[], long, long)}.
     */
    public TimestampMerge(PerfRing[] rings, PerfBuffer.LostHandler onLost, long windowNanos, long maxLaneBytes) {
        this(rings, onLost, windowNanos, maxLaneBytes, new ConsumerGate("merge", () -> { }));
    }

    /**
     * As {@link #TimestampMerge(PerfRing[], PerfBuffer.LostHandler, long, long)}, delivering nothing more once
     * {@code gate} is closed (a {@code windowNanos} of Long.MAX_VALUE holds events until the rule or a flush
     * releases them, never by age).
     */
    public TimestampMerge(PerfRing[] rings, PerfBuffer.LostHandler onLost, long windowNanos, long maxLaneBytes,
                          ConsumerGate gate) {
        this(Arrays.stream(rings).mapToInt(PerfRing::cpu).toArray(),
                Arrays.stream(rings).map(PerfCursor::new).toArray(PerfCursor[]::new), onLost, windowNanos,
                maxLaneBytes, gate);
    }

    private TimestampMerge(int[] cpus, PerfCursor[] rings, PerfBuffer.LostHandler onLost, long windowNanos,
                           long maxLaneBytes, ConsumerGate gate) {
        int max = 0;
        for (int c : cpus) {
            max = Math.max(max, c);
        }
        this.laneOfCpu = new int[max + 1];
        Arrays.fill(laneOfCpu, -1);
        this.lanes = new MergeLane[cpus.length];
        for (int i = 0; i < cpus.length; i++) {
            lanes[i] = new MergeLane(cpus[i]);
            laneOfCpu[cpus[i]] = i;
        }
        this.rings = rings;
        this.onLost = onLost;
        this.windowNanos = windowNanos;
        this.maxLaneBytes = maxLaneBytes;
        this.ringHas = new boolean[cpus.length];
        this.ringTs = new long[cpus.length];
        this.active = new int[cpus.length];
        this.gate = gate;
    }

    /**
     * Takes one event read at {@code arrivedAt} (System.nanoTime). A late event goes straight to {@code handler};
     * any other is copied and held. Returns the number of events handed out (late ones, and any released early
     * because this CPU's payload space reached its limit).
     */
    public int add(int cpu, MemorySegment payload, long timestamp, long arrivedAt, OrderedPerfBuffer.Handler handler) {
        return addToLane(laneOfCpu[cpu], payload, timestamp, arrivedAt, handler);
    }

    private int addToLane(int li, MemorySegment payload, long timestamp, long arrivedAt,
                          OrderedPerfBuffer.Handler handler) {
        MergeLane lane = lanes[li];
        int out = 0;
        while (true) {
            // Once closed, nothing more goes out: the event is held whatever it costs, to be counted at close.
            boolean closed = gate.isClosedPlain();
            if (timestamp < lastReleased && !closed) {
                late++;
                released++;
                handler.onRecord(lane.cpu, payload, timestamp, true);
                return out + 1;
            }
            if (lane.add(payload, timestamp, arrivedAt, closed ? Long.MAX_VALUE : maxLaneBytes) != MergeLane.FULL) {
                return out;
            }
            // The memory bound: release the oldest held event before the rule allows, then try again.
            forced++;
            out += releaseOldestHeld(handler);
        }
    }

    /**
     * Reads the rings (if any) and releases, in timestamp order, every event the rule allows at {@code now}
     * (System.nanoTime); with {@code all}, every event. What stays is held. Returns the number of events handed to
     * {@code handler}, late ones included. If the handler throws, the events before it are released, it counts
     * as released, and the rest stay where they were (held, or in the rings for the next pass).
     */
    public int release(long now, boolean all, OrderedPerfBuffer.Handler handler) {
        final MergeLane[] lanes = this.lanes;
        final PerfCursor[] rings = this.rings;
        int n = 0;
        int begun = 0;
        try {
            for (int i = 0; i < rings.length; i++) {
                rings[i].begin();
                begun = i + 1;
                peek(i);
            }
            // Everything read this pass arrived at (about) now: with no window it has all expired already.
            long bound = all || windowNanos == 0 ? Long.MAX_VALUE : expiredBound(now);
            long quiet = Long.MAX_VALUE;
            int na = 0;
            int holding = 0;  // active lanes with held events
            for (int i = 0; i < lanes.length; i++) {
                if (ringHas[i] || !lanes[i].isEmpty()) {
                    active[na++] = i;
                    holding += lanes[i].isEmpty() ? 0 : 1;
                } else {
                    quiet = Math.min(quiet, lanes[i].maxSeen);
                }
            }
            while (na > 0 && !gate.isClosedPlain()) {
                // The smallest head, and the runner-up.
                int bi = 0;
                long best = head(active[0]);
                long second = Long.MAX_VALUE;
                for (int j = 1; j < na; j++) {
                    long t = head(active[j]);
                    if (t < best) {
                        second = best;
                        best = t;
                        bi = j;
                    } else if (t < second) {
                        second = t;
                    }
                }
                long limit = Math.max(bound, quiet);
                if (best > limit && best >= lastReleased) {
                    break;  // a CPU that ran dry might still produce something older: hold the rest
                }
                // What may go: within the rule, or late (below the last released, which only grows meanwhile).
                long floor = lastReleased;
                long cap = Math.max(limit, floor == Long.MIN_VALUE ? floor : floor - 1);
                int li = active[bi];
                MergeLane lane = lanes[li];
                int stopped;
                if (holding == 0) {
                    // Only ring samples: merge all the rings in one loop until the rule stops it or a ring needs
                    // next().
                    stopped = mergeRings(active, na, cap, floor, handler);
                    n += tally.count;
                } else if (ringHas[li] && (lane.isEmpty() || ringTs[li] < lane.headTs())) {
                    // This CPU's ring comes first, before its held head (held ones first on a tie) and the runner-up.
                    single[0] = li;
                    long laneBound = lane.isEmpty() ? Long.MAX_VALUE : lane.headTs() - 1;
                    stopped = mergeRings(single, 1, Math.min(cap, Math.min(second, laneBound)), floor, handler);
                    stopped = stopped < 0 ? -1 : bi;
                    n += tally.count;
                } else {
                    takeHeld(li, handler);
                    n++;
                    if (lane.isEmpty()) {
                        holding--;
                    }
                    stopped = ringHas[li] || !lane.isEmpty() ? -1 : bi;
                }
                if (stopped >= 0) {
                    int sl = active[stopped];
                    if (!ringHas[sl] && lanes[sl].isEmpty()) {
                        active[stopped] = active[--na];
                        quiet = Math.min(quiet, lanes[sl].maxSeen);
                    }
                }
            }
            for (int j = 0; j < na && !gate.isClosedPlain(); j++) {
                n += spill(active[j], now, handler);
            }
        } finally {
            for (int i = 0; i < begun; i++) {
                ringHas[i] = false;
                rings[i].end();
            }
        }
        return n;
    }

    /**
     * Runs {@link CursorMerge#merge} over the rings of {@code laneIdx[0..n)} (all standing on a sample) and accounts
     * for what it delivered, even if a handler throws. Returns the index in {@code laneIdx} of a lane whose ring
     * was left standing on nothing (moved on here with {@link PerfCursor#next}), or -1.
     */
    private int mergeRings(int[] laneIdx, int n, long cap, long floor, OrderedPerfBuffer.Handler handler) {
        int stopped;
        CursorMerge.Tally t = tally;
        t.count = 0;
        try {
            stopped = CursorMerge.merge(rings, laneIdx, n, cap, floor, handler, t, gate);
        } finally {
            released += t.count;
            late += t.late;
            lastReleased = Math.max(lastReleased, t.floor);
            for (int j = 0; j < n; j++) {
                int li = laneIdx[j];
                PerfCursor ring = rings[li];
                ringHas[li] = ring.positioned();
                ringTs[li] = ring.time();
            }
        }
        if (stopped >= 0) {
            int li = laneIdx[stopped];
            MergeLane lane = lanes[li];
            lane.maxSeen = Math.max(lane.maxSeen, rings[li].lastTime());
            if (!gate.isClosedPlain()) {
                peek(li);  // (after a close, not even a LOST report: the pass is over)
            }
        }
        return stopped;
    }

    /** Moves lane {@code li}'s ring to its next sample and notes its time. */
    private void peek(int li) {
        PerfCursor ring = rings[li];
        boolean has = ring.next(onLost);
        ringHas[li] = has;
        if (has) {
            long ts = ring.time();
            ringTs[li] = ts;
            MergeLane lane = lanes[li];
            if (ts > lane.maxSeen) {
                lane.maxSeen = ts;
            }
        }
    }

    /** The smallest timestamp lane {@code li} can deliver next (its ring's head or its held head). */
    private long head(int li) {
        long t = ringHas[li] ? ringTs[li] : Long.MAX_VALUE;
        MergeLane lane = lanes[li];
        return lane.isEmpty() ? t : Math.min(t, lane.headTs());
    }

    /** Hands lane {@code li}'s held head to {@code handler}. */
    private void takeHeld(int li, OrderedPerfBuffer.Handler handler) {
        MergeLane lane = lanes[li];
        long ts = lane.headTs();
        MemorySegment payload = lane.takeHead();
        boolean isLate = ts < lastReleased;
        if (isLate) {
            late++;
        } else {
            lastReleased = ts;
        }
        released++;
        handler.onRecord(lane.cpu, payload, ts, isLate);
    }

    /** Copies what is left of lane {@code li}'s ring this pass into the lane, stamped {@code now}. */
    private int spill(int li, long now, OrderedPerfBuffer.Handler handler) {
        if (li >= rings.length) {
            return 0;  // no ring attached: only added events
        }
        PerfCursor ring = rings[li];
        int n = 0;
        while (ringHas[li] && !gate.isClosedPlain()) {
            MemorySegment payload = ring.payload();
            long ts = ringTs[li];
            ring.take();
            ringHas[li] = false;
            n += addToLane(li, payload, ts, now, handler);
            peek(li);
        }
        return n;
    }

    /** The largest timestamp among held events whose window has closed at {@code now}. */
    private long expiredBound(long now) {
        if (windowNanos == Long.MAX_VALUE) {
            return expired;  // a window without end: nothing is released by age
        }
        long cutoff = now - windowNanos;
        long exp = expired;
        for (MergeLane lane : lanes) {
            exp = lane.expiredUpTo(cutoff, exp);
        }
        expired = exp;
        return exp;
    }

    /** Releases the held event with the smallest timestamp, whatever the rule says (the memory bound). */
    private int releaseOldestHeld(OrderedPerfBuffer.Handler handler) {
        int li = -1;
        for (int i = 0; i < lanes.length; i++) {
            if (!lanes[i].isEmpty() && (li < 0 || lanes[i].headTs() < lanes[li].headTs())) {
                li = i;
            }
        }
        MergeLane lane = lanes[li];
        long ts = lane.headTs();
        MemorySegment payload = lane.takeHead();
        lastReleased = Math.max(lastReleased, ts);
        released++;
        handler.onRecord(lane.cpu, payload, ts, false);
        return 1;
    }

    /** When the next held event's window closes (System.nanoTime), or Long.MAX_VALUE when nothing waits on one. */
    public long nextDeadline() {
        long oldest = Long.MAX_VALUE;
        for (MergeLane lane : lanes) {
            long a = lane.oldestOpenArrival();
            if (a != Long.MAX_VALUE && (oldest == Long.MAX_VALUE || a - oldest < 0)) {
                oldest = a;
            }
        }
        if (oldest == Long.MAX_VALUE || held() == 0 || windowNanos == Long.MAX_VALUE) {
            return Long.MAX_VALUE;
        }
        long at = oldest + windowNanos;
        // An instant that overflows is centuries away: as good as never.
        return ((oldest ^ at) & (windowNanos ^ at)) < 0 ? Long.MAX_VALUE : at;
    }

    /** Events held now. */
    public long held() {
        long n = 0;
        for (MergeLane lane : lanes) {
            n += lane.size();
        }
        return n;
    }

    /** Events handed out so far, late ones included. */
    public long released() {
        return released;
    }

    /** Events handed out late (out of order, flagged). */
    public long late() {
        return late;
    }

    /** Events released before the rule allowed because a CPU's payload space reached its limit. */
    public long forced() {
        return forced;
    }
}
