package dev.panbpf.perf;

import dev.panbpf.internal.ConsumerGate;

import java.lang.foreign.MemorySegment;

import static dev.panbpf.perf.PerfLayout.*;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

/**
 * CursorMerge is the ordered reader's hot loop: it delivers samples from several {@link PerfCursor}s in time
 * order, straight from the mappings, keeping the current ring's state in locals and leaving it only when another
 * ring's head comes first; with two CPUs both rings' positions stay in locals and a change of CPU costs a
 * comparison. It decides nothing about holding: the caller passes the cap up to which samples may go.
 */
public final class CursorMerge {
    private CursorMerge() { }

    /** Tally counts what one {@link #merge} delivered; filled in even when a handler throws. */
    public static final class Tally {
        /** Samples delivered. */
        public int count;
        /** Of those, the ones flagged late. */
        public int late;
        /** The largest time among those not late, or Long.MIN_VALUE. */
        public long floor;
    }

    /**
     * Merges {@code cursors[active[0..n)]}, each standing on a sample, delivering the smallest time first while it
     * is at most {@code cap}. A sample older than {@code floor} or than one delivered before it in this call is
     * flagged late (the rings are in time order but for outputs nested in others). Returns the index in
     * {@code active} of a cursor left standing on nothing (its pass ended, or its next record is one for
     * {@link PerfCursor#next}: LOST or other types, one that wraps the end, a payload length function), or -1 when the
     * smallest head is above {@code cap}. A sample whose handler throws counts as taken. Once {@code gate} is
     * closed (by a handler), stops after that handler's call, returning the cursor it came from.
     */
    public static int merge(PerfCursor[] cursors, int[] active, int n, long cap, long floor,
                            OrderedPerfBuffer.Handler handler, Tally tally, ConsumerGate gate) {
        if (n == 2 && cursors[active[0]].plain && cursors[active[1]].plain) {
            return merge2(cursors[active[0]], cursors[active[1]], cap, floor, handler, tally, gate);
        }
        int count = 0;
        int late = 0;
        PerfCursor c = null;
        long pos = 0;
        int size = 0;
        long ts = 0;
        long payloadAt = 0;
        long length = 0;
        boolean positioned = true;
        long last = Long.MIN_VALUE;
        int run = 0;
        try {
            while (true) {
                int bj = 0;
                long best = cursors[active[0]].time;
                long second = Long.MAX_VALUE;
                for (int k = 1; k < n; k++) {
                    long t = cursors[active[k]].time;
                    if (t < best) {
                        second = best;
                        best = t;
                        bj = k;
                    } else if (t < second) {
                        second = t;
                    }
                }
                if (best > cap) {
                    return -1;
                }
                final long runBound = Math.min(second, cap);
                c = cursors[active[bj]];
                final MemorySegment data = c.data;
                final long mask = c.mask;
                final long head = c.head;
                final long dataSize = c.dataSize;
                final long rawSizeAt = c.rawSizeAt;
                final int minSample = c.minSample;
                final int fixedSize = c.fixedSize;
                final boolean plain = c.plain;
                final int cpu = c.cpu;
                pos = c.pos;
                size = c.size;
                ts = c.time;
                payloadAt = c.payloadAt;
                length = c.length;
                last = Long.MIN_VALUE;
                run = 0;
                MemorySegment record = c.inScratch ? c.scratch : data;
                while (true) {
                    pos += size;  // taken before the handler sees it
                    positioned = false;
                    count++;
                    run++;
                    last = ts;
                    boolean isLate = ts < floor;
                    if (isLate) {
                        late++;
                    } else {
                        floor = ts;
                    }
                    handler.onRecord(cpu, record.asSlice(payloadAt, length), ts, isLate);
                    // The next sample, if it is a plain one (as in next's common case).
                    if (head - pos <= 0 || !plain || gate.isClosedPlain()) {
                        break;
                    }
                    long at = pos & mask;
                    size = Short.toUnsignedInt(data.get(JAVA_SHORT, at + SIZE));
                    if (data.get(JAVA_INT, at + TYPE) != RECORD_SAMPLE || size < minSample || (size & 7) != 0
                            || size > head - pos || at + size > dataSize) {
                        break;
                    }
                    long sizeAt = at + rawSizeAt;
                    long raw = Integer.toUnsignedLong(data.get(JAVA_INT, sizeAt));
                    if (sizeAt + RAW_SIZE_BYTES + raw > at + size
                            || (fixedSize >= 0 && rawSizeFor(fixedSize) != raw)) {
                        break;
                    }
                    ts = data.get(JAVA_LONG, at + SAMPLE_TIME);
                    payloadAt = sizeAt + RAW_SIZE_BYTES;
                    length = fixedSize >= 0 ? fixedSize : raw;
                    record = data;
                    positioned = true;
                    if (ts > runBound) {
                        break;
                    }
                }
                c.park(pos, size, ts, payloadAt, length, positioned, run, last);
                c = null;
                if (!positioned) {
                    return bj;
                }
            }
        } finally {
            if (c != null) {
                c.park(pos, size, ts, payloadAt, length, positioned, run, last);
            }
            tally.count = count;
            tally.late = late;
            tally.floor = floor;
        }
    }

    /**
     * {@link #merge} for two plain cursors, the common two-CPU case: both rings' positions and heads stay in locals,
     * so moving from one CPU to the other costs a comparison. Returns 0 or 1 for the cursor left standing on
     * nothing, or -1.
     */
    private static int merge2(PerfCursor c0, PerfCursor c1, long cap, long floor, OrderedPerfBuffer.Handler handler,
                              Tally tally, ConsumerGate gate) {
        long pos0 = c0.pos;
        long pos1 = c1.pos;
        long ts0 = c0.time;
        long ts1 = c1.time;
        int run0 = 0;
        int run1 = 0;
        long last0 = Long.MIN_VALUE;
        long last1 = Long.MIN_VALUE;
        int late = 0;
        int stopped = -1;
        // A cursor's record of the sample it stands on is written back at once (size, payload, scratch), so only
        // positions and times need carrying; the sample's other fields are read from the cursor when it goes.
        try {
            while (true) {
                boolean first = ts0 <= ts1;
                PerfCursor c = first ? c0 : c1;
                long ts = first ? ts0 : ts1;
                if (ts > cap) {
                    return -1;
                }
                long pos = first ? pos0 : pos1;
                MemorySegment record = c.inScratch ? c.scratch : c.data;
                long payloadAt = c.payloadAt;
                long length = c.length;
                pos += c.size;  // taken before the handler sees it
                c.size = 0;
                if (first) {
                    pos0 = pos;
                    run0++;
                    last0 = ts;
                } else {
                    pos1 = pos;
                    run1++;
                    last1 = ts;
                }
                boolean isLate = ts < floor;
                if (isLate) {
                    late++;
                } else {
                    floor = ts;
                }
                handler.onRecord(c.cpu, record.asSlice(payloadAt, length), ts, isLate);
                long next = gate.isClosedPlain() ? Long.MIN_VALUE : c.peekPlain(pos);
                if (next == Long.MIN_VALUE) {
                    stopped = first ? 0 : 1;
                    return stopped;
                }
                if (first) {
                    ts0 = next;
                } else {
                    ts1 = next;
                }
            }
        } finally {
            c0.settle(pos0, ts0, run0, last0);
            c1.settle(pos1, ts1, run1, last1);
            tally.count = run0 + run1;
            tally.late = late;
            tally.floor = floor;
        }
    }

}
