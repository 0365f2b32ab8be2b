package dev.panbpf.perf;

import java.lang.foreign.MemorySegment;

import static dev.panbpf.perf.PerfLayout.*;
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
 * taken; what was not taken stays in the ring for the next pass). {@link CursorMerge} delivers from several
 * cursors in time order. Only the consumer thread uses a cursor, and never while {@link PerfRing#read} runs.
 */
public final class PerfCursor {
    private final PerfRing ring;
    private final PerfRecord rec;
    final int cpu;
    private final MemorySegment page;
    final MemorySegment data;
    final MemorySegment scratch;
    final long dataSize;
    final long mask;
    final long rawSizeAt;
    /** The smallest SAMPLE record (header, time, raw size): anything shorter is left to {@link PerfRecord}. */
    final int minSample;
    final int fixedSize;
    /** Whether every sample can take the fast path: times on, no length function to call. */
    final boolean plain;

    long head;
    long pos;
    /** The size of the sample the cursor stands on, or 0 when it stands on none. */
    int size;
    long time;
    long payloadAt;
    long length;
    boolean inScratch;
    private long taken;
    private long lost;
    private long lastTime = Long.MIN_VALUE;

    /** A cursor over {@code ring}. */
    public PerfCursor(PerfRing ring) {
        this.ring = ring;
        this.rec = ring.record();
        this.cpu = ring.cpu();
        this.page = ring.page();
        this.data = ring.data();
        this.scratch = rec.scratch;
        this.dataSize = data.byteSize();
        this.mask = dataSize - 1;
        this.rawSizeAt = rec.rawSizeAt;
        this.minSample = rec.minSample;
        this.fixedSize = rec.fixedSize;
        this.plain = rec.payloadLength == null && rec.timestamps;
    }

    /** The CPU whose ring this is. */
    public int cpu() {
        return cpu;
    }

    /**
     * Starts a pass over what the kernel has published now (its head, loaded with acquire and checked as
     * {@link PerfRing#read} checks it: on positions that cannot be, the tail is resynchronised and this throws).
     */
    public void begin() {
        size = 0;
        pos = page.get(JAVA_LONG, DATA_TAIL);  // only this consumer writes it
        try {
            head = rec.head(pos);
        } catch (RuntimeException e) {
            pos = page.get(JAVA_LONG, DATA_TAIL);  // where the resynchronisation left it: an empty pass
            head = pos;
            throw e;
        }
    }

    /**
     * Moves to the next sample of the pass without taking it: LOST records on the way are counted and reported to
     * {@code onLost} (may be null), other types stepped over. Returns false when the pass has no more samples.
     * Throws, as read does, on a record that cannot be (it, and what follows up to the head if the next record
     * cannot be found, are skipped) or a sample whose size contradicts the options (it alone is skipped; it
     * does not count as delivered).
     */
    public boolean next(PerfBuffer.LostHandler onLost) {
        size = 0;
        while (pos != head) {
            long start = pos;
            int kind;
            try {
                kind = rec.parse(start, head);
            } finally {
                pos = rec.next;  // a record that fails, or a LOST whose handler throws, counts as read
            }
            if (kind == PerfRecord.SAMPLE) {
                pos = start;
                size = rec.size;
                time = rec.time;
                payloadAt = rec.payloadAt;
                length = rec.length;
                inScratch = rec.record == scratch;
                return true;
            }
            if (kind == PerfRecord.LOST) {
                long count = rec.lostCount;
                lost += count;
                if (onLost != null) {
                    onLost.onLost(cpu, count);
                }
            }
        }
        return false;
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

    /** The time of the last sample {@link CursorMerge#merge} took from this ring (Long.MIN_VALUE before any). */
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

    /**
     * Stands this cursor on the plain sample at {@code at} and returns its time, or returns Long.MIN_VALUE and
     * stands on nothing when there is none or it is not plain (left to {@link #next}).
     */
    long peekPlain(long at0) {
        final long head = this.head;
        if (head - at0 <= 0) {
            return Long.MIN_VALUE;
        }
        final MemorySegment data = this.data;
        long at = at0 & mask;
        int n = Short.toUnsignedInt(data.get(JAVA_SHORT, at + SIZE));
        if (data.get(JAVA_INT, at + TYPE) != RECORD_SAMPLE || n < minSample || (n & 7) != 0
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

    /** Writes back where {@link CursorMerge} left this cursor ({@code size} is already current). */
    void settle(long pos, long ts, int run, long last) {
        this.pos = pos;
        this.time = ts;
        taken += run;
        if (run > 0) {
            lastTime = Math.max(lastTime, last);
        }
    }

    /** Stores where a {@link CursorMerge#merge} run left this cursor. */
    void park(long pos, int size, long ts, long payloadAt, long length, boolean positioned, int run,
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
