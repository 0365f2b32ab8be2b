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
 * PerfRing reads the records of one CPU's perf ring (see {@link PerfLayout} for the layout) and hands them to a
 * handler. It only reads memory: opening, mapping and closing belong to its owner, so a test can run it over a
 * segment it wrote itself.
 *
 * <p>Records that lie wholly inside the data area are passed as slices of the mapping (zero copy, valid until the
 * handler returns). A record that crosses the end of the data area is first copied into this CPU's scratch
 * segment, because the kernel maps the data area only once.
 *
 * <p>Only the consumer thread calls {@link #read}; the counters are published with volatile writes once per
 * read so other threads may look at them.
 */
public final class PerfRing {
    private final int cpu;
    private final MemorySegment page;
    private final MemorySegment data;
    private final long dataSize;
    private final long mask;
    private final MemorySegment scratch;
    private final boolean timestamps;
    private final long rawSizeAt;
    private final int fixedSize;
    private final ToIntFunction<MemorySegment> payloadLength;
    private volatile long delivered;
    private volatile long lost;

    /**
     * A reader over {@code mapping} (metadata page then data area) for {@code cpu}. {@code scratch} must hold
     * {@link PerfLayout#MAX_RECORD_BYTES} and be 8-byte aligned. {@code fixedSize} (or -1) and
     * {@code payloadLength} (or null) say how many of the raw bytes are the program's; with neither, the whole
     * raw area is delivered, padding included.
     */
    public PerfRing(int cpu, MemorySegment mapping, MemorySegment scratch, boolean timestamps, int fixedSize,
                    ToIntFunction<MemorySegment> payloadLength) {
        this.cpu = cpu;
        this.page = mapping;
        long offset = mapping.get(JAVA_LONG, DATA_OFFSET);
        long size = mapping.get(JAVA_LONG, DATA_SIZE);
        if (size == 0) {
            // Kernels before 4.1 leave these fields zero; the data area then starts right after the first page.
            offset = Sys.PAGE_SIZE;
            size = mapping.byteSize() - Sys.PAGE_SIZE;
        }
        if (Long.bitCount(size) != 1 || offset < 0 || offset + size > mapping.byteSize()) {
            throw new BpfException("perf ring of CPU " + cpu + " has a data area of " + size + " bytes at offset "
                    + offset + " in a mapping of " + mapping.byteSize() + " bytes; expected a power of two inside it");
        }
        if (scratch.byteSize() < MAX_RECORD_BYTES || scratch.address() % 8 != 0) {
            throw new IllegalArgumentException("scratch must be 8-byte aligned and hold " + MAX_RECORD_BYTES + " bytes");
        }
        this.data = mapping.asSlice(offset, size);
        this.dataSize = size;
        this.mask = size - 1;
        this.scratch = scratch;
        this.timestamps = timestamps;
        this.rawSizeAt = rawSizeOffset(timestamps);
        this.fixedSize = fixedSize;
        this.payloadLength = payloadLength;
    }

    /** The CPU whose ring this is. */
    public int cpu() {
        return cpu;
    }

    /** SAMPLE records handed to a handler so far. */
    public long delivered() {
        return delivered;
    }

    /** Events the kernel reported lost (the sum of LOST records) so far. */
    public long lost() {
        return lost;
    }

    /** Whether records are waiting: the kernel's head is ahead of our tail. */
    public boolean hasData() {
        return (long) POSITION.getAcquire(page, DATA_HEAD) != page.get(JAVA_LONG, DATA_TAIL);
    }

    /**
     * Reads every record the kernel had published when this call began, calls {@code handler} for each sample
     * and {@code onLost} (may be null) for each LOST record, and returns the number of samples. The tail is
     * published in {@code finally}: a record whose handler throws counts as consumed, the rest stay in the ring.
     */
    public int read(PerfBuffer.Handler handler, PerfBuffer.LostHandler onLost) {
        final MemorySegment page = this.page;
        final MemorySegment data = this.data;
        final long dataSize = this.dataSize;
        final long mask = this.mask;
        // Acquire pairs with the kernel's release of data_head: the record bytes before it are visible.
        final long head = (long) POSITION.getAcquire(page, DATA_HEAD);
        long tail = page.get(JAVA_LONG, DATA_TAIL);  // only this consumer writes it
        int samples = 0;
        long lostNow = 0;
        try {
            while (tail < head) {
                long at = tail & mask;
                // Records are 8-aligned and the data size is a power of two, so a header never wraps.
                int size = Short.toUnsignedInt(data.get(JAVA_SHORT, at + SIZE));
                int type = data.get(JAVA_INT, at + TYPE);
                if (size < HEADER_BYTES || (size & 7) != 0 || size > head - tail) {
                    long skipped = head - tail;
                    tail = head;  // resynchronise on the kernel's head rather than stay stuck here
                    throw new BpfException("perf ring of CPU " + cpu + " holds a record of type " + type
                            + " and size " + size + " at position " + (head - skipped) + ", which cannot be; "
                            + skipped + " bytes were skipped to resynchronise (was the mapping written by "
                            + "someone else?)");
                }
                MemorySegment record = data;
                long base = at;
                if (at + size > dataSize) {
                    long first = dataSize - at;
                    MemorySegment.copy(data, at, scratch, 0, first);
                    MemorySegment.copy(data, 0, scratch, first, size - first);
                    record = scratch;
                    base = 0;
                }
                tail += size;
                if (type == RECORD_SAMPLE) {
                    samples++;
                    deliver(record, base, size, handler);
                } else if (type == RECORD_LOST) {
                    long n = record.get(JAVA_LONG, base + LOST_COUNT);
                    lostNow += n;
                    if (onLost != null) {
                        onLost.onLost(cpu, n);
                    }
                }
                // Other record types (throttling, ...) carry nothing for us and are stepped over.
            }
        } finally {
            // Release: our reads of the records happen before the kernel may overwrite them.
            POSITION.setRelease(page, DATA_TAIL, tail);
            if (samples != 0) {
                delivered += samples;
            }
            if (lostNow != 0) {
                lost += lostNow;
            }
        }
        return samples;
    }

    private void deliver(MemorySegment record, long base, int size, PerfBuffer.Handler handler) {
        long sizeAt = base + rawSizeAt;
        long raw = Integer.toUnsignedLong(record.get(JAVA_INT, sizeAt));
        long payloadAt = sizeAt + RAW_SIZE_BYTES;
        if (payloadAt + raw > base + size) {
            throw new BpfException("perf sample on CPU " + cpu + " claims " + raw + " raw bytes in a record of "
                    + size + " bytes; the record was skipped (are timestamps configured as the event was opened?)");
        }
        long timestamp = timestamps ? record.get(JAVA_LONG, base + SAMPLE_TIME) : 0L;
        long length = raw;
        if (fixedSize >= 0) {
            if (rawSizeFor(fixedSize) != raw) {
                throw sizeMismatch(raw, fixedSize, "payloadSize");
            }
            length = fixedSize;
        } else if (payloadLength != null) {
            int n = payloadLength.applyAsInt(record.asSlice(payloadAt, raw));
            if (n < 0 || rawSizeFor(n) != raw) {
                throw sizeMismatch(raw, n, "payloadLength");
            }
            length = n;
        }
        handler.onRecord(cpu, record.asSlice(payloadAt, length), timestamp);
    }

    private BpfException sizeMismatch(long raw, long declared, String option) {
        long lo = Math.max(0, raw - 7);
        return new BpfException("perf sample on CPU " + cpu + " has " + raw + " raw bytes, so the program sent "
                + lo + ".." + raw + " bytes, but the " + option + " option says " + declared + "; the record was "
                + "skipped. Make the option match what the BPF program passes to bpf_perf_event_output");
    }

    // ------------------------------------------------------------------ stepping, for a merge across rings

    // Stepping reads the same records as read, one sample at a time under the caller's control: look at the next
    // sample (time, payload) without taking it, take it when the caller decides, publish the tail once at the end.
    // The ordered reader merges the CPUs' rings this way, delivering straight from the mappings. Same thread rules
    // as read, and the two are never interleaved: stepBegin ... stepEnd is one pass.

    private long stepHead;
    private long stepPos;
    private int stepSize;
    private int stepTaken;
    private long stepLost;
    private boolean stepInScratch;
    private long stepPayloadAt;
    private long stepLength;
    private long stepTime;

    /** Starts a stepping pass over what the kernel has published now (its head, loaded with acquire). */
    public void stepBegin() {
        stepHead = (long) POSITION.getAcquire(page, DATA_HEAD);
        stepPos = page.get(JAVA_LONG, DATA_TAIL);  // only this consumer writes it
        stepSize = 0;
    }

    /**
     * Whether the pass's samples have non-decreasing times (needs timestamps). The kernel writes a CPU's samples
     * in time order except when an output nests inside another (it takes its time first, its space second). A
     * record that cannot be parsed ends the check; {@link #stepNext} reports it.
     */
    public boolean stepSorted() {
        final MemorySegment data = this.data;
        final long mask = this.mask;
        final long head = stepHead;
        long last = Long.MIN_VALUE;
        for (long pos = stepPos; pos < head; ) {
            long at = pos & mask;
            int size = Short.toUnsignedInt(data.get(JAVA_SHORT, at + SIZE));
            if (size < HEADER_BYTES || (size & 7) != 0 || size > head - pos) {
                return true;
            }
            if (data.get(JAVA_INT, at + TYPE) == RECORD_SAMPLE) {
                // Records are 8-aligned, so the u64 time lies whole at the end or whole at the start.
                long t = data.get(JAVA_LONG, (at + SAMPLE_TIME) & mask);
                if (t < last) {
                    return false;
                }
                last = t;
            }
            pos += size;
        }
        return true;
    }

    /**
     * Moves to the next sample of the pass without taking it: LOST records on the way are counted and reported to
     * {@code onLost} (may be null), other types stepped over. Returns false when the pass has no more samples.
     * Throws, as read does, on a record that cannot be (it and what follows up to the head are skipped) or a
     * sample whose size contradicts the options (it alone is skipped).
     */
    public boolean stepNext(PerfBuffer.LostHandler onLost) {
        // The common case kept small enough for the JIT to inline into the merge: a well-formed sample that lies
        // whole in the data area, with no length function to call. Anything else takes the full path below.
        final long pos = stepPos;
        final long head = stepHead;
        if (pos < head && payloadLength == null) {
            final MemorySegment data = this.data;
            final long at = pos & mask;
            final int size = Short.toUnsignedInt(data.get(JAVA_SHORT, at + SIZE));
            if (data.get(JAVA_INT, at + TYPE) == RECORD_SAMPLE && size >= HEADER_BYTES && (size & 7) == 0
                    && size <= head - pos && at + size <= dataSize) {
                final long sizeAt = at + rawSizeAt;
                final long raw = Integer.toUnsignedLong(data.get(JAVA_INT, sizeAt));
                final long length = fixedSize >= 0 ? fixedSize : raw;
                if (sizeAt + RAW_SIZE_BYTES + raw <= at + size && (fixedSize < 0 || rawSizeFor(fixedSize) == raw)) {
                    stepTime = timestamps ? data.get(JAVA_LONG, at + SAMPLE_TIME) : 0L;
                    stepPayloadAt = sizeAt + RAW_SIZE_BYTES;
                    stepLength = length;
                    stepSize = size;
                    stepInScratch = false;
                    return true;
                }
            }
        }
        return stepNextSlowly(onLost);
    }

    private boolean stepNextSlowly(PerfBuffer.LostHandler onLost) {
        final MemorySegment data = this.data;
        final long head = stepHead;
        long pos = stepPos;
        stepSize = 0;
        while (pos < head) {
            long at = pos & mask;
            int size = Short.toUnsignedInt(data.get(JAVA_SHORT, at + SIZE));
            int type = data.get(JAVA_INT, at + TYPE);
            if (size < HEADER_BYTES || (size & 7) != 0 || size > head - pos) {
                stepPos = head;
                throw new BpfException("perf ring of CPU " + cpu + " holds a record of type " + type + " and size "
                        + size + " at position " + pos + ", which cannot be; " + (head - pos) + " bytes were "
                        + "skipped to resynchronise (was the mapping written by someone else?)");
            }
            MemorySegment record = data;
            long base = at;
            if (at + size > dataSize) {
                long first = dataSize - at;
                MemorySegment.copy(data, at, scratch, 0, first);
                MemorySegment.copy(data, 0, scratch, first, size - first);
                record = scratch;
                base = 0;
            }
            stepPos = pos + size;  // a record that fails below, or a LOST whose handler throws, counts as read
            if (type == RECORD_SAMPLE) {
                stepTaken++;  // a sample that fails below counts as delivered, as in read
                stepLocate(record, base, size);
                stepTaken--;
                stepPos = pos;
                stepSize = size;
                stepInScratch = record == scratch;
                return true;
            }
            if (type == RECORD_LOST) {
                long n = record.get(JAVA_LONG, base + LOST_COUNT);
                stepLost += n;
                if (onLost != null) {
                    onLost.onLost(cpu, n);
                }
            }
            pos += size;
        }
        return false;
    }

    private void stepLocate(MemorySegment record, long base, int size) {
        long sizeAt = base + rawSizeAt;
        long raw = Integer.toUnsignedLong(record.get(JAVA_INT, sizeAt));
        long payloadAt = sizeAt + RAW_SIZE_BYTES;
        if (payloadAt + raw > base + size) {
            throw new BpfException("perf sample on CPU " + cpu + " claims " + raw + " raw bytes in a record of "
                    + size + " bytes; the record was skipped (are timestamps configured as the event was opened?)");
        }
        long length = raw;
        if (fixedSize >= 0) {
            if (rawSizeFor(fixedSize) != raw) {
                throw sizeMismatch(raw, fixedSize, "payloadSize");
            }
            length = fixedSize;
        } else if (payloadLength != null) {
            int n = payloadLength.applyAsInt(record.asSlice(payloadAt, raw));
            if (n < 0 || rawSizeFor(n) != raw) {
                throw sizeMismatch(raw, n, "payloadLength");
            }
            length = n;
        }
        stepTime = timestamps ? record.get(JAVA_LONG, base + SAMPLE_TIME) : 0L;
        stepPayloadAt = payloadAt;
        stepLength = length;
    }

    /** The time of the last sample taken by {@link #stepMerge} from this ring (Long.MIN_VALUE before any). */
    private long stepLastTime = Long.MIN_VALUE;

    /** Tally counts what one {@link #stepMerge} delivered, filled in even when a handler throws. */
    public static final class Tally {
        /** Samples delivered. */
        public int count;
        /** Of those, the ones flagged late. */
        public int late;
        /** The time of the last one delivered (Long.MIN_VALUE when none). */
        public long last;
    }

    /**
     * Merges the passes of {@code rings[active[0..n)]}, each positioned on a sample (after stepNext returned true),
     * delivering the smallest time first straight from the mappings while it is at most {@code cap}; a sample
     * with a time below {@code lateBelow} is flagged late. Each ring's samples must be in time order
     * ({@link #stepSorted}). The delivery loop keeps the current ring's state in locals and leaves it only when
     * another ring's head comes first, so a merge costs little more than reading. Returns the index in
     * {@code active} of a ring left without a position (its pass ended, or the next record is one for stepNext:
     * LOST or other types, one that wraps the end, a payload length function), or -1 when the smallest head is
     * above {@code cap}. A sample whose handler throws counts as taken; {@code tally} says what went out.
     */
    public static int stepMerge(PerfRing[] rings, int[] active, int n, long cap, long lateBelow,
                                OrderedPerfBuffer.Handler handler, Tally tally) {
        int count = 0;
        int late = 0;
        long last = Long.MIN_VALUE;
        PerfRing r = null;
        long pos = 0;
        int size = 0;
        long ts = 0;
        long payloadAt = 0;
        long length = 0;
        boolean positioned = true;
        int taken = 0;
        try {
            while (true) {
                int bj = 0;
                long best = rings[active[0]].stepTime;
                long second = Long.MAX_VALUE;
                for (int k = 1; k < n; k++) {
                    long t = rings[active[k]].stepTime;
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
                r = rings[active[bj]];
                final MemorySegment data = r.data;
                final long mask = r.mask;
                final long head = r.stepHead;
                final long dataSize = r.dataSize;
                final long rawSizeAt = r.rawSizeAt;
                final int fixedSize = r.fixedSize;
                final boolean simple = r.payloadLength == null && r.timestamps;
                final int cpu = r.cpu;
                pos = r.stepPos;
                size = r.stepSize;
                ts = r.stepTime;
                payloadAt = r.stepPayloadAt;
                length = r.stepLength;
                MemorySegment record = r.stepInScratch ? r.scratch : data;
                taken = 0;
                while (true) {
                    pos += size;  // taken before the handler sees it
                    positioned = false;
                    taken++;
                    count++;
                    last = ts;
                    boolean isLate = ts < lateBelow;
                    if (isLate) {
                        late++;
                    }
                    handler.onRecord(cpu, record.asSlice(payloadAt, length), ts, isLate);
                    // The next sample, if it is a plain one (as in stepNext's fast path).
                    if (pos >= head || !simple) {
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
                r.park(pos, size, ts, payloadAt, length, positioned, taken, last);
                r = null;
                if (!positioned) {
                    return bj;
                }
            }
        } finally {
            if (r != null) {
                r.park(pos, size, ts, payloadAt, length, positioned, taken, last);
            }
            tally.count = count;
            tally.late = late;
            tally.last = last;
        }
    }

    /** Stores where a {@link #stepMerge} run left this ring. */
    private void park(long pos, int size, long ts, long payloadAt, long length, boolean positioned, int taken,
                      long last) {
        stepPos = pos;
        stepTaken += taken;
        if (taken > 0) {
            stepLastTime = last;
        }
        if (positioned) {
            stepSize = size;
            stepTime = ts;
            stepPayloadAt = payloadAt;
            stepLength = length;
            stepInScratch = false;
        } else {
            stepSize = 0;
        }
    }

    /** Whether the pass stands on a sample not yet taken (stepNext returned true, or a merge stopped at one). */
    public boolean stepPositioned() {
        return stepSize != 0;
    }

    /** The time of the last sample {@link #stepMerge} took from this ring (Long.MIN_VALUE before any). */
    public long stepLastTime() {
        return stepLastTime;
    }

    /** The time of the sample {@link #stepNext} moved to (0 without timestamps). */
    public long stepTime() {
        return stepTime;
    }

    /** The payload of the sample {@link #stepNext} moved to: valid until the next stepNext or stepEnd. */
    public MemorySegment stepPayload() {
        return (stepInScratch ? scratch : data).asSlice(stepPayloadAt, stepLength);
    }

    /** Takes the sample {@link #stepNext} moved to: it counts as delivered, and the tail will pass it. */
    public void stepTake() {
        stepPos += stepSize;
        stepSize = 0;
        stepTaken++;
    }

    /**
     * Ends the pass: publishes the tail (release) behind the samples taken, so the ones not taken stay in the ring
     * for the next pass, and adds to the counters.
     */
    public void stepEnd() {
        POSITION.setRelease(page, DATA_TAIL, stepPos);
        stepSize = 0;
        if (stepTaken != 0) {
            delivered += stepTaken;
            stepTaken = 0;
        }
        if (stepLost != 0) {
            lost += stepLost;
            stepLost = 0;
        }
    }
}
