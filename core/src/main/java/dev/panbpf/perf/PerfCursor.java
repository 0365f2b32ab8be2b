package dev.panbpf.perf;

import dev.panbpf.BpfException;
import dev.panbpf.internal.ConsumerGate;
import dev.panbpf.internal.Sys;

import java.lang.foreign.MemorySegment;
import java.util.function.ToIntFunction;

import static dev.panbpf.perf.PerfLayout.*;
import static java.lang.foreign.ValueLayout.JAVA_INT_UNALIGNED;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED;

/**
 * PerfCursor is the one reader of one CPU's perf ring records (layout in {@link PerfLayout}), used by every perf
 * reader: a pass is {@link #begin()}, then {@link #next()} until it returns false (or one {@link #drain}), then
 * {@link #end()}, which publishes {@code data_tail} (call it in {@code finally}).
 *
 * <p>{@link #next()} steps to the next SAMPLE and takes it: it counts as consumed from then on, even if the
 * handler it goes to throws. LOST records on the way are counted and reported, other types stepped over. A
 * sample that lies whole in the data area is handed out as a slice of the mapping; one that crosses the end is
 * copied into this CPU's scratch first, because the kernel maps the data area once.
 *
 * <p>The metadata page is writable by anyone who maps the event, so positions and sizes are checked before any
 * read that depends on them: {@code data_head - data_tail} must be 0..data size, both 8-byte aligned, and the
 * head must never go back; a record must be 8..(head - tail) bytes and 8-aligned, and as long as its type needs.
 * A violation raises a {@link BpfException} naming the CPU, after which reading goes on from a position that can
 * be: the head, when the next record cannot be found; the next record, when only this one is wrong. No read
 * leaves the data area and no loop runs without progress.
 *
 * <p>Only the consuming thread drives a cursor; the lost count is published once per pass for other threads.
 */
final class PerfCursor {
    private static final int LOST_BYTES = HEADER_BYTES + 2 * Long.BYTES;  // header, u64 id, u64 count
    // drain()'s look-ahead for a run: 64 samples, or as many as fill 16 KiB up to 256 (more loads in flight)
    private static final int RUN = 64, MAX_RUN = 256, RUN_BYTES = 16 << 10;
    /**
     * The address space as one global-scope segment (as in RingReader): loads through it fold bounds and liveness
     * checks. Headers, raw sizes, times and lost counts are read through it at {@code base + offset}, each offset
     * checked against the data area first; sound only while the owner's {@link ConsumerGate} admits the caller
     * (it unmaps only when no consumer is inside). Handlers still get slices of {@code data}, which throw after close.
     */
    private static final MemorySegment VIEW = MemorySegment.NULL.reinterpret(Long.MAX_VALUE);

    final int cpu;
    /** The metadata page (CachedConsumeBenchmark rewinds data_tail through this field, by name). */
    private final MemorySegment page;
    private final MemorySegment data;
    private final long base;  // the address of the data area's first byte
    private final MemorySegment scratch;
    private final MemorySegment scratchView;
    private final long dataSize;
    private final long mask;
    private final boolean timestamps;
    private final long rawSizeAt;
    private final int minSample;  // the smallest SAMPLE: header, [u64 time], u32 raw size
    private final int fixedSize;
    private final ToIntFunction<MemorySegment> payloadLength;
    private final LostHandler onLost;
    /** The highest head accepted so far: the kernel's head only grows. */
    private long lastHead;

    private long head;
    /** What {@link #end()} publishes: past every record consumed. */
    private long tail;
    /** Where the sample taken last starts, and whether it wrapped the end (so its payload is in scratch). */
    private long sampleAt;
    private boolean inScratch;
    private long payloadAt;
    private long length;
    private long time;
    private long lostNow;
    private volatile long lost;
    private boolean stopped;
    private int drained;

    /**
     * A cursor over {@code mapping} (metadata page, then data area) of {@code cpu}, reading samples as
     * {@code options} say; {@code scratch} holds {@link PerfLayout#MAX_RECORD_BYTES}.
     */
    PerfCursor(int cpu, MemorySegment mapping, MemorySegment scratch, PerfOptions options) {
        this.cpu = cpu;
        this.page = mapping;
        long offset = mapping.get(JAVA_LONG, DATA_OFFSET);
        long size = mapping.get(JAVA_LONG, DATA_SIZE);
        if (size == 0) {
            // Kernels before 4.1 leave these fields zero; the data area then starts right after the first page.
            offset = Sys.PAGE_SIZE;
            size = mapping.byteSize() - Sys.PAGE_SIZE;
        }
        if (Long.bitCount(size) != 1 || size < HEADER_BYTES || offset < 0 || offset + size > mapping.byteSize()) {
            throw new BpfException("perf ring of CPU " + cpu + " has a data area of " + size + " bytes at offset "
                    + offset + " in a mapping of " + mapping.byteSize() + " bytes; expected a power of two inside it");
        }
        // Handlers get views of the kernel's pages: read-only, like the ring buffer's (and so the scratch copies).
        this.data = mapping.asSlice(offset, size).asReadOnly();
        if (!data.isNative()) {
            throw new IllegalArgumentException("perf ring of CPU " + cpu + ": the mapping is not native memory");
        }
        this.base = data.address();
        this.scratch = scratch;
        this.scratchView = scratch.asReadOnly();
        this.dataSize = size;
        this.mask = size - 1;
        this.timestamps = options.timestamps();
        this.rawSizeAt = rawSizeOffset(timestamps);
        this.minSample = (int) rawSizeAt + RAW_SIZE_BYTES;
        this.fixedSize = options.payloadSize();
        this.payloadLength = options.payloadLength();
        this.onLost = options.onLost();
        this.lastHead = mapping.get(JAVA_LONG, DATA_TAIL);
        this.tail = lastHead;
    }

    /**
     * Starts a pass over what the kernel has published now: loads the head (acquire, so the records before it
     * are visible) and checks it against the tail. On positions that cannot be, makes the head the tail
     * (published at once), so the pass is empty, and throws.
     */
    void begin() {
        long t = page.get(JAVA_LONG, DATA_TAIL);  // only the consumer writes it (or someone corrupting the page)
        long h = (long) POSITION.getAcquire(page, DATA_HEAD);
        tail = t;
        head = t;
        long ahead = h - t;
        if (ahead == 0 || (ahead > 0 && ahead <= dataSize && ((h | t) & 7) == 0 && h - lastHead >= 0)) {
            // An empty ring is never an error: after a resynchronisation on a head that cannot be (unaligned,
            // say) the next pass finds tail == head and waits for the kernel to write one that can.
            lastHead = h;
            head = h;
            return;
        }
        String what;
        if (((h | t) & 7) != 0) {
            what = "data_head " + h + " / data_tail " + t + " is not 8-byte aligned";
        } else if (h - lastHead < 0) {
            what = "data_head went back from " + lastHead + " to " + h;
        } else if (ahead < 0) {
            what = "data_head " + h + " is behind data_tail " + t;
        } else {
            what = "data_head " + h + " is " + Long.toUnsignedString(ahead) + " bytes ahead of data_tail " + t
                    + ", more than the " + dataSize + "-byte data area";
        }
        lastHead = h;
        head = h;
        tail = h;
        POSITION.setRelease(page, DATA_TAIL, h);
        throw PerfErrors.corrupt(cpu, what + "; reading resumes at data_head, whatever lay between is lost");
    }

    /**
     * Steps to the next sample of the pass and takes it; returns false when the pass has none left. Throws for
     * a record that cannot be (skipped, with what follows up to the head when the next record cannot be found)
     * or a sample that contradicts the options (it alone is skipped, and not counted).
     */
    boolean next() {
        final long head = this.head;
        long pos = tail;
        while (pos != head) {
            long at = pos & mask;
            // Records are 8-aligned and the data size a power of two (at least 8), so a header never wraps.
            long header = VIEW.get(JAVA_LONG_UNALIGNED, base + at);
            int size = recordSize(header);
            int type = recordType(header);
            if (size < HEADER_BYTES || (size & 7) != 0 || size > head - pos) {
                tail = head;  // the next record cannot be found: resynchronise on the kernel's head
                throw PerfErrors.unfindable(cpu, header, pos, head);
            }
            tail = pos + size;  // consumed from here on, whatever follows
            if (type == RECORD_SAMPLE) {
                sample(pos, at, size);
                return true;
            }
            if (type == RECORD_LOST) {
                lostRecord(pos, at, size);
            }
            pos += size;  // other types (throttling and the like) carry nothing for us
        }
        return false;
    }

    /**
     * PerfBuffer's read of a pass: every sample to the head goes to {@code handler} until it returns false (then
     * {@link #stopped()}) or {@code gate} (null in tests) closes; checks and outcomes are {@link #next()}'s. Whole
     * samples sharing the header word and raw size of the one before (no payloadLength function) form a run: their
     * headers are loaded at positions computed from the first's size, independently, then delivered in a row.
     */
    int drain(PerfSink handler, ConsumerGate gate) {
        final long head = this.head;
        final long base = this.base;
        final long mask = this.mask;
        final long rawAt = rawSizeAt;
        long pos = tail;
        int n = 0;
        boolean stop = false;
        try {
            records:
            while (pos != head) {
                long at = pos & mask;
                long header = VIEW.get(JAVA_LONG_UNALIGNED, base + at);
                int size = recordSize(header);
                if (size < HEADER_BYTES || (size & 7) != 0 || size > head - pos) {
                    long from = pos;
                    pos = head;  // the next record cannot be found: resynchronise on the kernel's head
                    throw PerfErrors.unfindable(cpu, header, from, head);
                }
                long from = pos;
                pos += size;  // consumed from here on, whatever follows
                int type = recordType(header);
                if (type != RECORD_SAMPLE) {
                    if (type == RECORD_LOST) {
                        lostRecord(from, at, size);
                    }
                    continue;
                }
                if (at + size > dataSize || payloadLength != null) {
                    sample(from, at, size);  // wrapped (copied to scratch) or a length to ask for: the general step
                    n++;
                    stop = !handler.onRecord(cpu, payload(), time);
                    if (stop || (gate != null && gate.isClosedPlain())) {
                        break;
                    }
                    continue;
                }
                if (size < minSample) {
                    throw PerfErrors.tooShort(cpu, timestamps, "SAMPLE", size, from, minSample);
                }
                int rawWord = VIEW.get(JAVA_INT_UNALIGNED, base + at + rawAt);
                long raw = checkedRaw(Integer.toUnsignedLong(rawWord), size);
                long len = fixedSize >= 0 ? fixedSize : raw;
                // The run: equal header words (so SAMPLE, this size) and raw sizes, each whole before the end.
                int most = Math.max(RUN, Math.min(MAX_RUN, RUN_BYTES / size));
                int run = 1;
                long next = pos;
                while (run < most && head - next >= size && (next & mask) + size <= dataSize
                        && VIEW.get(JAVA_LONG_UNALIGNED, base + (next & mask)) == header
                        && VIEW.get(JAVA_INT_UNALIGNED, base + (next & mask) + rawAt) == rawWord) {
                    run++;
                    next += size;
                }
                for (int i = 0; i < run; i++, from += size) {
                    long off = from & mask;
                    pos = from + size;  // consumed, even if the handler throws
                    n++;
                    long t = timestamps ? VIEW.get(JAVA_LONG_UNALIGNED, base + off + SAMPLE_TIME) : 0L;
                    stop = !handler.onRecord(cpu, data.asSlice(off + rawAt + RAW_SIZE_BYTES, len), t);
                    if (stop || (gate != null && gate.isClosedPlain())) {
                        break records;
                    }
                }
            }
        } finally {
            tail = pos;
            stopped = stop;
            drained = n;
        }
        return n;
    }

    /** Whether the handler returned false in the last {@link #drain}. */
    boolean stopped() {
        return stopped;
    }

    /** How many samples the last {@link #drain} handed out, the one a handler threw on included. */
    int drained() {
        return drained;
    }

    /** {@code raw}, checked against a sample of {@code size} bytes and the payloadSize option. */
    private long checkedRaw(long raw, int size) {
        if (raw > size - rawSizeAt - RAW_SIZE_BYTES) {
            throw new BpfException("perf sample on CPU " + cpu + " claims " + raw + " raw bytes in a record of "
                    + size + " bytes; the record was skipped (are timestamps configured as the event was opened?)");
        }
        if (fixedSize >= 0 && rawSizeFor(fixedSize) != raw) {
            throw PerfErrors.sizeMismatch(cpu, raw, fixedSize, "payloadSize");
        }
        return raw;
    }

    /** Reads the sample of {@code size} bytes at {@code pos} (offset {@code at}) into the cursor's fields. */
    private void sample(long pos, long at, int size) {
        if (size < minSample) {
            throw PerfErrors.tooShort(cpu, timestamps, "SAMPLE", size, pos, minSample);
        }
        if (at + size <= dataSize) {
            fields(data, at, size, false);
        } else {
            long first = dataSize - at;
            MemorySegment.copy(data, at, scratch, 0, first);
            MemorySegment.copy(data, 0, scratch, first, size - first);
            fields(scratchView, 0, size, true);
        }
        sampleAt = pos;
    }

    /**
     * Reads a sample's fields from {@code rec} at {@code base}, checking its raw size against the record and the
     * options. Called with either segment as a constant, so each call compiles to plain reads of that segment.
     */
    private void fields(MemorySegment rec, long base, int size, boolean copied) {
        long sizeAt = base + rawSizeAt;
        long raw = checkedRaw(Integer.toUnsignedLong(rec.get(JAVA_INT_UNALIGNED, sizeAt)), size);
        length = fixedSize >= 0 ? fixedSize
                : payloadLength == null ? raw : declaredLength(rec, sizeAt + RAW_SIZE_BYTES, raw);
        payloadAt = sizeAt + RAW_SIZE_BYTES;
        time = timestamps ? rec.get(JAVA_LONG_UNALIGNED, base + SAMPLE_TIME) : 0L;
        inScratch = copied;
    }

    /** The length the payloadLength option reads from a sample's {@code raw} bytes at {@code at}, checked. */
    private long declaredLength(MemorySegment rec, long at, long raw) {
        int declared = payloadLength.applyAsInt(rec.asSlice(at, raw));
        if (declared < 0 || rawSizeFor(declared) != raw) {
            throw PerfErrors.sizeMismatch(cpu, raw, declared, "payloadLength");
        }
        return declared;
    }

    private void lostRecord(long pos, long at, int size) {
        if (size < LOST_BYTES) {
            throw PerfErrors.tooShort(cpu, timestamps, "LOST", size, pos, LOST_BYTES);
        }
        // The count is 8-aligned like the record, so it lies whole at the start of the area if the record wraps.
        long count = VIEW.get(JAVA_LONG_UNALIGNED, base + ((at + LOST_COUNT) & mask));
        lostNow += count;
        if (onLost != null) {
            onLost.onLost(cpu, count);
        }
    }

    /** The time of the sample taken last (0 without timestamps). */
    long time() {
        return time;
    }

    /** The payload of the sample taken last: valid until the cursor moves on or the pass ends. */
    MemorySegment payload() {
        return base().asSlice(payloadAt, length);
    }

    /** The read-only segment that holds that payload (data area or scratch copy), its offset and size. */
    MemorySegment base() {
        return inScratch ? scratchView : data;
    }

    long offset() {
        return payloadAt;
    }

    long size() {
        return length;
    }

    /** Gives the sample taken last back to the ring: the pass ends before it, and the next pass reads it again. */
    void putBack() {
        tail = sampleAt;
    }

    /** Ends the pass: publishes the tail (release) and adds the pass's losses to the counter. */
    void end() {
        // Release: our reads of the records happen before the kernel may overwrite them.
        POSITION.setRelease(page, DATA_TAIL, tail);
        if (lostNow != 0) {
            lost += lostNow;
            lostNow = 0;
        }
    }

    /** Events the kernel reported lost (the sum of LOST records) so far. */
    long lost() {
        return lost;
    }

    /**
     * The SAMPLE records between the tail and the head now, for the count of what a close drops: headers only
     * (no handler, no length function), stopping at the first that cannot be; 0 when the positions cannot be.
     */
    long unreadSamples() {
        long t = page.get(JAVA_LONG, DATA_TAIL);
        long h = (long) POSITION.getAcquire(page, DATA_HEAD);
        if (h - t < 0 || h - t > dataSize || ((h | t) & 7) != 0) {
            return 0;
        }
        long count = 0;
        for (long pos = t; pos != h; ) {
            long header = data.get(JAVA_LONG_UNALIGNED, pos & mask);
            long n = recordSize(header);
            if (n < HEADER_BYTES || (n & 7) != 0 || n > h - pos) {
                break;
            }
            count += recordType(header) == RECORD_SAMPLE ? 1 : 0;
            pos += n;
        }
        return count;
    }
}
