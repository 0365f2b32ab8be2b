package dev.panbpf.internal;

import dev.panbpf.BpfException;
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
 * taken; what was not taken stays in the ring for the next pass). {@link CursorMerge} delivers from several
 * cursors in time order. Only the consumer thread uses a cursor, and never while {@link PerfRing#read} runs.
 */
public final class PerfCursor {
    private final PerfRing ring;
    final int cpu;
    private final MemorySegment page;
    final MemorySegment data;
    final MemorySegment scratch;
    final long dataSize;
    final long mask;
    final long rawSizeAt;
    private final boolean timestamps;
    final int fixedSize;
    private final ToIntFunction<MemorySegment> payloadLength;
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
