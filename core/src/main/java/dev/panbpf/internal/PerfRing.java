package dev.panbpf.internal;

import dev.panbpf.BpfException;
import dev.panbpf.PerfBuffer;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import java.util.function.ToIntFunction;

import static dev.panbpf.internal.PerfLayout.*;
import static java.lang.foreign.ValueLayout.JAVA_INT_UNALIGNED;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED;

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
    /*
     * The hot loop reads each record's 8-byte header as one u64 and takes type and size out of it: one load and one
     * bounds check instead of two. The *_UNALIGNED layouts are for speed, not because anything is misaligned:
     * records are 8-byte aligned in a page-aligned area, and the aligned layouts would add an alignment test to
     * every read (seen in the code C2 generates for this loop; the effect on drain time is within the benchmarks'
     * noise on a shared machine).
     */
    private static final boolean LITTLE = ByteOrder.nativeOrder() == ByteOrder.LITTLE_ENDIAN;
    private static final int TYPE_SHIFT = (int) (LITTLE ? TYPE * 8 : 32 - TYPE * 8);
    private static final int SIZE_SHIFT = (int) (LITTLE ? SIZE * 8 : 48 - SIZE * 8);
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
    private int runSamples;   // readRun's results: only the consumer thread touches them
    private long runTail;
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
        // Handlers get views of the kernel's pages: read-only, like the ring buffer's.
        this.data = mapping.asSlice(offset, size).asReadOnly();
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
        boolean inRun = false;
        try {
            while (tail < head) {
                inRun = true;
                tail = readRun(data, tail, head, handler);
                inRun = false;
                samples += runSamples;
                if (tail >= head) {
                    break;
                }
                // The run stopped at a record that is not a whole sample in the mapping: handle that one here.
                long at = tail & mask;
                // Records are 8-aligned and the data size is a power of two, so a header never wraps.
                long header = data.get(JAVA_LONG_UNALIGNED, at);
                int size = (int) (header >>> SIZE_SHIFT) & 0xFFFF;
                int type = (int) (header >>> TYPE_SHIFT);
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
                    long n = record.get(JAVA_LONG_UNALIGNED, base + LOST_COUNT);
                    lostNow += n;
                    if (onLost != null) {
                        onLost.onLost(cpu, n);
                    }
                }
                // Other record types (throttling, ...) carry nothing for us and are stepped over.
            }
        } finally {
            if (inRun) {                  // a handler threw inside the run
                tail = runTail;
                samples += runSamples;
            }
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

    /**
     * Delivers the run of well-formed samples that lie whole in the mapping from {@code tail} on, and returns the
     * position of the first record that is anything else (or {@code head}). Kept apart from the rare cases so the
     * loop is short and its few values stay in registers (in one loop with them, C2 kept the tail on the stack, a
     * store and reload on the chain from one record to the next); a shorter loop also lets the CPU overlap the
     * cache misses of more records when the records were written on another CPU. Leaves the count in runSamples,
     * and on the way out (also when a handler throws) the position after the last record it consumed in runTail.
     */
    private long readRun(MemorySegment data, long tail, long head, PerfBuffer.Handler handler) {
        final long mask = this.mask;
        final long dataSize = this.dataSize;
        int n = 0;
        try {
            while (tail < head) {
                long at = tail & mask;
                long header = data.get(JAVA_LONG_UNALIGNED, at);
                int size = (int) (header >>> SIZE_SHIFT) & 0xFFFF;
                if ((int) (header >>> TYPE_SHIFT) != RECORD_SAMPLE || size < HEADER_BYTES || (size & 7) != 0
                        || size > head - tail || at + size > dataSize) {
                    break;
                }
                tail += size;             // consumed from here on, even if the handler throws
                n++;
                deliver(data, at, size, handler);
            }
        } finally {
            runSamples = n;
            runTail = tail;
        }
        return tail;
    }

    private void deliver(MemorySegment record, long base, int size, PerfBuffer.Handler handler) {
        long sizeAt = base + rawSizeAt;
        long raw = Integer.toUnsignedLong(record.get(JAVA_INT_UNALIGNED, sizeAt));
        long payloadAt = sizeAt + RAW_SIZE_BYTES;
        if (payloadAt + raw > base + size) {
            throw new BpfException("perf sample on CPU " + cpu + " claims " + raw + " raw bytes in a record of "
                    + size + " bytes; the record was skipped (are timestamps configured as the event was opened?)");
        }
        long timestamp = timestamps ? record.get(JAVA_LONG_UNALIGNED, base + SAMPLE_TIME) : 0L;
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

    // ------------------------------------------------------------------ for PerfCursor (the ordered reader)

    /** The metadata page (positions). */
    MemorySegment page() {
        return page;
    }

    /** The data area. */
    MemorySegment data() {
        return data;
    }

    /** This CPU's scratch segment for records that wrap the end. */
    MemorySegment scratch() {
        return scratch;
    }

    /** Whether samples carry a time. */
    boolean timestamps() {
        return timestamps;
    }

    /** The declared fixed payload size, or -1. */
    int fixedSize() {
        return fixedSize;
    }

    /** The declared payload length function, or null. */
    ToIntFunction<MemorySegment> payloadLength() {
        return payloadLength;
    }

    /** Adds what another reader of this ring consumed to the counters (consumer thread only). */
    void count(long samples, long lostNow) {
        if (samples != 0) {
            delivered += samples;
        }
        if (lostNow != 0) {
            lost += lostNow;
        }
    }

    /** The error for a sample whose raw size contradicts {@code option}. */
    BpfException sizeMismatchError(long raw, long declared, String option) {
        return sizeMismatch(raw, declared, option);
    }
}
