package dev.panbpf.internal;

import dev.panbpf.BpfException;
import dev.panbpf.OrderedPerfBuffer;
import dev.panbpf.PerfBuffer;

import java.lang.foreign.MemorySegment;
import java.util.function.ToIntFunction;

import static dev.panbpf.internal.PerfLayout.*;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

/**
 * PerfCursor reads one CPU's perf ring a sample at a time under a merge's control, where {@link PerfRing#read}
 * drains it in one go: look at the next sample (time, payload) without taking it, take it when the merge says,
 * publish the tail once at the end of the pass. The ordered reader merges the CPUs' rings with cursors, handing
 * out payloads straight from the mappings.
 *
 * <p>A pass is {@link #begin} (takes the kernel's head) ... {@link #end} (publishes the tail behind what was
 * taken; what was not taken stays in the ring for the next pass). {@link #merge} is the hot loop: it delivers
 * from several cursors in time order, keeping the current ring's state in locals and leaving it only when another
 * ring's head comes first. Only the consumer thread uses a cursor, and never while {@link PerfRing#read} runs.
 */
public final class PerfCursor {
    private final PerfRing ring;
    private final int cpu;
    private final MemorySegment page;
    private final MemorySegment data;
    private final MemorySegment scratch;
    private final long dataSize;
    private final long mask;
    private final long rawSizeAt;
    private final boolean timestamps;
    private final int fixedSize;
    private final ToIntFunction<MemorySegment> payloadLength;
    /** Whether every sample can take the fast path: times on, no length function to call. */
    private final boolean plain;

    private long head;
    private long pos;
    /** The size of the sample the cursor stands on, or 0 when it stands on none. */
    private int size;
    private long time;
    private long payloadAt;
    private long length;
    private boolean inScratch;
    private long taken;
    private long lost;
    private long lastTime = Long.MIN_VALUE;

    /** A cursor over {@code ring}. */
    public PerfCursor(PerfRing ring) {
        this.ring = ring;
        this.cpu = ring.cpu();
        this.page = ring.page();
        this.data = ring.data();
        this.scratch = ring.scratch();
        this.dataSize = data.byteSize();
        this.mask = dataSize - 1;
        this.timestamps = ring.timestamps();
        this.rawSizeAt = rawSizeOffset(timestamps);
        this.fixedSize = ring.fixedSize();
        this.payloadLength = ring.payloadLength();
        this.plain = payloadLength == null && timestamps;
    }

    /** The CPU whose ring this is. */
    public int cpu() {
        return cpu;
    }

    /** Starts a pass over what the kernel has published now (its head, loaded with acquire). */
    public void begin() {
        head = (long) POSITION.getAcquire(page, DATA_HEAD);
        pos = page.get(JAVA_LONG, DATA_TAIL);  // only this consumer writes it
        size = 0;
    }

    /**
     * Moves to the next sample of the pass without taking it: LOST records on the way are counted and reported to
     * {@code onLost} (may be null), other types stepped over. Returns false when the pass has no more samples.
     * Throws, as read does, on a record that cannot be (it and what follows up to the head are skipped) or a
     * sample whose size contradicts the options (it alone is skipped).
     */
    public boolean next(PerfBuffer.LostHandler onLost) {
        size = 0;
        while (pos < head) {
            long at = pos & mask;
            int n = Short.toUnsignedInt(data.get(JAVA_SHORT, at + SIZE));
            int type = data.get(JAVA_INT, at + TYPE);
            if (n < HEADER_BYTES || (n & 7) != 0 || n > head - pos) {
                long skipped = head - pos;
                long from = pos;
                pos = head;
                throw new BpfException("perf ring of CPU " + cpu + " holds a record of type " + type + " and size "
                        + n + " at position " + from + ", which cannot be; " + skipped + " bytes were skipped to "
                        + "resynchronise (was the mapping written by someone else?)");
            }
            MemorySegment record = data;
            long base = at;
            if (at + n > dataSize) {
                long first = dataSize - at;
                MemorySegment.copy(data, at, scratch, 0, first);
                MemorySegment.copy(data, 0, scratch, first, n - first);
                record = scratch;
                base = 0;
            }
            long start = pos;
            pos += n;  // a record that fails below, or a LOST whose handler throws, counts as read
            if (type == RECORD_SAMPLE) {
                taken++;  // a sample that fails below counts as delivered, as in read
                locate(record, base, n);
                taken--;
                pos = start;
                size = n;
                inScratch = record == scratch;
                return true;
            }
            if (type == RECORD_LOST) {
                long count = record.get(JAVA_LONG, base + LOST_COUNT);
                lost += count;
                if (onLost != null) {
                    onLost.onLost(cpu, count);
                }
            }
        }
        return false;
    }

    private void locate(MemorySegment record, long base, int n) {
        long sizeAt = base + rawSizeAt;
        long raw = Integer.toUnsignedLong(record.get(JAVA_INT, sizeAt));
        long at = sizeAt + RAW_SIZE_BYTES;
        if (at + raw > base + n) {
            throw new BpfException("perf sample on CPU " + cpu + " claims " + raw + " raw bytes in a record of "
                    + n + " bytes; the record was skipped (are timestamps configured as the event was opened?)");
        }
        long len = raw;
        if (fixedSize >= 0) {
            if (rawSizeFor(fixedSize) != raw) {
                throw ring.sizeMismatchError(raw, fixedSize, "payloadSize");
            }
            len = fixedSize;
        } else if (payloadLength != null) {
            int declared = payloadLength.applyAsInt(record.asSlice(at, raw));
            if (declared < 0 || rawSizeFor(declared) != raw) {
                throw ring.sizeMismatchError(raw, declared, "payloadLength");
            }
            len = declared;
        }
        time = timestamps ? record.get(JAVA_LONG, base + SAMPLE_TIME) : 0L;
        payloadAt = at;
        length = len;
    }

    /** Whether the cursor stands on a sample not yet taken. */
    public boolean positioned() {
        return size != 0;
    }

    /** The time of the sample the cursor stands on. */
    public long time() {
        return time;
    }

    /** The payload of the sample the cursor stands on: valid until the cursor moves or the pass ends. */
    public MemorySegment payload() {
        return (inScratch ? scratch : data).asSlice(payloadAt, length);
    }

    /** Takes the sample the cursor stands on: it counts as delivered, and the tail will pass it. */
    public void take() {
        pos += size;
        size = 0;
        taken++;
    }

    /** The time of the last sample {@link #merge} took from this ring (Long.MIN_VALUE before any). */
    public long lastTime() {
        return lastTime;
    }

    /** Ends the pass: publishes the tail (release) behind the samples taken and adds to the ring's counters. */
    public void end() {
        // Release: our reads of the records happen before the kernel may overwrite them.
        POSITION.setRelease(page, DATA_TAIL, pos);
        size = 0;
        ring.count(taken, lost);
        taken = 0;
        lost = 0;
    }

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
     * {@link #next}: LOST or other types, one that wraps the end, a payload length function), or -1 when the
     * smallest head is above {@code cap}. A sample whose handler throws counts as taken.
     */
    public static int merge(PerfCursor[] cursors, int[] active, int n, long cap, long floor,
                            OrderedPerfBuffer.Handler handler, Tally tally) {
        if (n == 2 && cursors[active[0]].plain && cursors[active[1]].plain) {
            return merge2(cursors[active[0]], cursors[active[1]], cap, floor, handler, tally);
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
                    if (pos >= head || !plain) {
                        break;
                    }
                    long at = pos & mask;
                    size = Short.toUnsignedInt(data.get(JAVA_SHORT, at + SIZE));
                    if (data.get(JAVA_INT, at + TYPE) != RECORD_SAMPLE || size < HEADER_BYTES || (size & 7) != 0
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
                              Tally tally) {
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
                long next = c.peekPlain(pos);
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

    /**
     * Stands this cursor on the plain sample at {@code at} and returns its time, or returns Long.MIN_VALUE and
     * stands on nothing when there is none or it is not plain (left to {@link #next}).
     */
    private long peekPlain(long at0) {
        final long head = this.head;
        if (at0 >= head) {
            return Long.MIN_VALUE;
        }
        final MemorySegment data = this.data;
        long at = at0 & mask;
        int n = Short.toUnsignedInt(data.get(JAVA_SHORT, at + SIZE));
        if (data.get(JAVA_INT, at + TYPE) != RECORD_SAMPLE || n < HEADER_BYTES || (n & 7) != 0
                || n > head - at0 || at + n > dataSize) {
            return Long.MIN_VALUE;
        }
        long sizeAt = at + rawSizeAt;
        long raw = Integer.toUnsignedLong(data.get(JAVA_INT, sizeAt));
        if (sizeAt + RAW_SIZE_BYTES + raw > at + n || (fixedSize >= 0 && rawSizeFor(fixedSize) != raw)) {
            return Long.MIN_VALUE;
        }
        size = n;
        payloadAt = sizeAt + RAW_SIZE_BYTES;
        length = fixedSize >= 0 ? fixedSize : raw;
        inScratch = false;
        return data.get(JAVA_LONG, at + SAMPLE_TIME);
    }

    /** Writes back where {@link #merge2} left this cursor ({@code size} is already current). */
    private void settle(long pos, long ts, int run, long last) {
        this.pos = pos;
        this.time = ts;
        taken += run;
        if (run > 0) {
            lastTime = Math.max(lastTime, last);
        }
    }

    /** Stores where a {@link #merge} run left this cursor. */
    private void park(long pos, int size, long ts, long payloadAt, long length, boolean positioned, int run,
                      long last) {
        this.pos = pos;
        taken += run;
        if (last != Long.MIN_VALUE) {
            lastTime = Math.max(lastTime, last);
        }
        if (positioned) {
            this.size = size;
            this.time = ts;
            this.payloadAt = payloadAt;
            this.length = length;
            this.inScratch = false;
        } else {
            this.size = 0;
        }
    }
}
