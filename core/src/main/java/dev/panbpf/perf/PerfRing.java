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
 * PerfRing reads the records of one CPU's perf ring (see {@link PerfLayout} for the layout) and hands them to a
 * handler. It only reads memory: opening, mapping and closing belong to its owner, so a test can run it over a
 * segment it wrote itself.
 *
 * <p>Records that lie wholly inside the data area are passed as slices of the mapping (zero copy, valid until the
 * handler returns). A record that crosses the end of the data area is first copied into this CPU's scratch
 * segment, because the kernel maps the data area only once.
 *
 * <p>Positions and records come from a mapping anyone who maps the event may write, so each read checks them
 * ({@link PerfRecord}): a corrupt ring raises a {@link BpfException} naming the CPU and what is wrong, and the
 * next read goes on from a position that can be; no read leaves the data area and no loop runs without progress.
 *
 * <p>Only the consumer thread calls {@link #read}; the counters are published with volatile writes once per
 * read so other threads may look at them.
 */
public final class PerfRing {
    /*
     * The hot loop reads each record's 8-byte header as one u64 (see PerfLayout.TYPE_SHIFT). The *_UNALIGNED
     * layouts are for speed, not because anything is misaligned: records are 8-byte aligned in a page-aligned
     * area, and the aligned layouts would add an alignment test to every read (seen in the code C2 generates for
     * this loop; the effect on drain time is within the benchmarks' noise on a shared machine).
     */
    /** A gate nobody closes, for readers without an owner (tests over fake rings). */
    private static final ConsumerGate NEVER_CLOSED = new ConsumerGate("perf ring", () -> { });

    private final int cpu;
    private final MemorySegment page;
    private final MemorySegment data;
    private final long dataSize;
    private final long mask;
    private final boolean timestamps;
    private final long rawSizeAt;
    private final int minSample;
    private final int fixedSize;
    private final ToIntFunction<MemorySegment> payloadLength;
    /** The checked parse for everything the fast loop does not take, shared with PerfCursor. */
    private final PerfRecord rec;
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
        if (Long.bitCount(size) != 1 || size < HEADER_BYTES || offset < 0 || offset + size > mapping.byteSize()) {
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
        this.timestamps = timestamps;
        this.rawSizeAt = rawSizeOffset(timestamps);
        this.fixedSize = fixedSize;
        this.payloadLength = payloadLength;
        this.rec = new PerfRecord(cpu, mapping, data, scratch, timestamps, fixedSize, payloadLength);
        this.minSample = rec.minSample;
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

    /** The SAMPLE records still unread now (for what a close drops); stops counting at a record that cannot be. */
    public long unreadSamples() {
        return rec.unreadSamples();
    }

    /** {@link #read(PerfBuffer.Handler, PerfBuffer.LostHandler, ConsumerGate)} for a reader nobody closes. */
    public int read(PerfBuffer.Handler handler, PerfBuffer.LostHandler onLost) {
        return read(handler, onLost, NEVER_CLOSED);
    }

    /**
     * Reads every record the kernel had published when this call began, calls {@code handler} for each sample
     * and {@code onLost} (may be null) for each LOST record, and returns the number of samples. Stops after the
     * handler call during which {@code gate} was closed (a handler closing its own buffer): the rest stays unread.
     * The tail is published in {@code finally}: a record whose handler throws counts as consumed, the rest stay
     * in the ring. A record that cannot be, or a sample that contradicts the options, raises a BpfException
     * after the records before it were delivered; it is skipped (with what follows, if the next record cannot be
     * found).
     */
    public int read(PerfBuffer.Handler handler, PerfBuffer.LostHandler onLost, ConsumerGate gate) {
        final PerfRecord rec = this.rec;
        long tail = page.get(JAVA_LONG, DATA_TAIL);  // only this consumer writes it
        final long head = rec.head(tail);
        int samples = 0;
        long lostNow = 0;
        boolean inRun = false;
        try {
            while (tail != head) {
                inRun = true;
                tail = readRun(data, tail, head, handler, gate);
                inRun = false;
                samples += runSamples;
                if (tail == head || gate.isClosedPlain()) {
                    break;
                }
                // The run stopped at a record that is not a plain sample in the mapping: parse that one here.
                int kind;
                try {
                    kind = rec.parse(tail, head);
                } finally {
                    tail = rec.next;
                }
                if (kind == PerfRecord.SAMPLE) {
                    samples++;
                    handler.onRecord(cpu, rec.record.asSlice(rec.payloadAt, rec.length), rec.time);
                    if (gate.isClosedPlain()) {
                        break;
                    }
                } else if (kind == PerfRecord.LOST) {
                    long n = rec.lostCount;
                    lostNow += n;
                    if (onLost != null) {
                        onLost.onLost(cpu, n);
                    }
                }
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
     * Anything it doubts it leaves to {@link PerfRecord#parse}, which says what is wrong.
     */
    private long readRun(MemorySegment data, long tail, long head, PerfBuffer.Handler handler, ConsumerGate gate) {
        final long mask = this.mask;
        final long dataSize = this.dataSize;
        final long rawSizeAt = this.rawSizeAt;
        final int minSample = this.minSample;
        final int fixedSize = this.fixedSize;
        final boolean timestamps = this.timestamps;
        final ToIntFunction<MemorySegment> payloadLength = this.payloadLength;
        final int cpu = this.cpu;
        int n = 0;
        try {
            while (tail != head) {
                long at = tail & mask;
                long header = data.get(JAVA_LONG_UNALIGNED, at);
                int size = (int) (header >>> SIZE_SHIFT) & 0xFFFF;
                if ((int) (header >>> TYPE_SHIFT) != RECORD_SAMPLE || size < minSample || (size & 7) != 0
                        || size > head - tail || at + size > dataSize) {
                    break;
                }
                long sizeAt = at + rawSizeAt;
                long raw = Integer.toUnsignedLong(data.get(JAVA_INT_UNALIGNED, sizeAt));
                if (raw > size - rawSizeAt - RAW_SIZE_BYTES || (fixedSize >= 0 && rawSizeFor(fixedSize) != raw)) {
                    break;
                }
                long payloadAt = sizeAt + RAW_SIZE_BYTES;
                tail += size;             // consumed from here on, even if the handler (or length function) throws
                long length = fixedSize >= 0 ? fixedSize
                        : payloadLength == null ? raw : rec.payloadLength(data, payloadAt, raw);
                n++;
                handler.onRecord(cpu, data.asSlice(payloadAt, length),
                        timestamps ? data.get(JAVA_LONG_UNALIGNED, at + SAMPLE_TIME) : 0L);
                if (gate.isClosedPlain()) {
                    break;
                }
            }
        } finally {
            runSamples = n;
            runTail = tail;
        }
        return tail;
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

    /** The checked parse of this ring's records. */
    PerfRecord record() {
        return rec;
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
}
