package dev.panbpf.perf;

import dev.panbpf.BpfException;

import java.lang.foreign.MemorySegment;
import java.util.function.ToIntFunction;

import static dev.panbpf.perf.PerfLayout.*;
import static java.lang.foreign.ValueLayout.JAVA_INT_UNALIGNED;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED;

/**
 * PerfRecord is the one checked parse of one CPU's perf ring, shared by every reader of it: {@link PerfRing#read}
 * (for what its fast loop leaves), {@link PerfCursor} (the ordered reader) and the count of unread samples at
 * close. Everything here distrusts the mapping: the metadata page is writable by anyone who maps the event, so
 * positions and record sizes are checked before any read that depends on them.
 *
 * <ul>
 *   <li>{@link #head(long)}: {@code data_head - data_tail} must be 0..dataSize, both 8-byte aligned, and the
 *       head must never go back. Otherwise the tail is resynchronised to the head (published) and an error says
 *       what was wrong: a reader never loops on, or reads past, positions that cannot be.</li>
 *   <li>{@link #parse(long, long)}: a record's header must be 8..(head - tail) bytes and 8-aligned (otherwise the
 *       next record cannot be found: resynchronise to the head), and as long as its type needs (SAMPLE: header,
 *       time if on, raw size; LOST: header, id, count) with its raw bytes inside it (otherwise only this record is
 *       skipped).</li>
 * </ul>
 * After a parse, {@link #next} is where reading goes on, also when it threw. Consumer thread only.
 */
final class PerfRecord {
    /** {@link #parse} results. */
    static final int SAMPLE = 1;
    static final int LOST = 2;
    static final int OTHER = 3;
    /** Header, u64 id, u64 count. */
    static final int LOST_BYTES = HEADER_BYTES + 2 * Long.BYTES;

    final int cpu;
    final MemorySegment page;
    final MemorySegment data;
    final MemorySegment scratch;
    final long dataSize;
    final long mask;
    final boolean timestamps;
    final long rawSizeAt;
    /** The smallest SAMPLE: header, [u64 time], u32 raw size. */
    final int minSample;
    final int fixedSize;
    final ToIntFunction<MemorySegment> payloadLength;
    /** The highest head accepted so far: the kernel's head only grows. */
    private long lastHead;

    // What the last parse found.
    /** Where reading goes on: past the record, or the head after a resynchronisation. */
    long next;
    /** The record's bytes: the data area, or the scratch copy of a record that wraps its end. */
    MemorySegment record;
    int size;
    long time;
    long payloadAt;
    long length;
    long lostCount;

    PerfRecord(int cpu, MemorySegment page, MemorySegment data, MemorySegment scratch, boolean timestamps,
               int fixedSize, ToIntFunction<MemorySegment> payloadLength) {
        this.cpu = cpu;
        this.page = page;
        this.data = data;
        this.scratch = scratch;
        this.dataSize = data.byteSize();
        this.mask = dataSize - 1;
        this.timestamps = timestamps;
        this.rawSizeAt = rawSizeOffset(timestamps);
        this.minSample = (int) rawSizeAt + RAW_SIZE_BYTES;
        this.fixedSize = fixedSize;
        this.payloadLength = payloadLength;
        this.lastHead = page.get(JAVA_LONG, DATA_TAIL);
    }

    /**
     * The kernel's head (acquire: the records before it are visible), checked against {@code tail} as the class
     * comment says. On a violation, publishes head as the new tail and throws.
     */
    long head(long tail) {
        long head = (long) POSITION.getAcquire(page, DATA_HEAD);
        long ahead = head - tail;
        if ((ahead > 0 && ahead <= dataSize && ((head | tail) & 7) == 0 && head - lastHead >= 0) || ahead == 0) {
            // Nothing to read is never an error: after a resynchronisation on a head that cannot be (unaligned,
            // say) the next read finds tail == head and waits for the kernel to write a head that can.
            lastHead = head;
            return head;
        }
        String what;
        if (((head | tail) & 7) != 0) {
            what = "data_head " + head + " / data_tail " + tail + " is not 8-byte aligned";
        } else if (head - lastHead < 0) {
            what = "data_head went back from " + lastHead + " to " + head;
        } else if (ahead < 0) {
            what = "data_head " + head + " is behind data_tail " + tail;
        } else {
            what = "data_head " + head + " is " + Long.toUnsignedString(ahead) + " bytes ahead of data_tail " + tail
                    + ", more than the " + dataSize + "-byte data area";
        }
        resync(head);
        return throwCorrupt(what + "; reading resumes at data_head, whatever lay between is lost");
    }

    /** Makes {@code head} the tail (release) and the highest head seen: reading resumes there. */
    private void resync(long head) {
        lastHead = head;
        POSITION.setRelease(page, DATA_TAIL, head);
    }

    /**
     * Parses the record at {@code tail} (below {@code head}, both from {@link #head}) and returns its kind. For a
     * SAMPLE, fills in {@link #record}, {@link #size}, {@link #time}, {@link #payloadAt} and {@link #length} (the
     * options' payload size, padding excluded when they declare one); for LOST, {@link #lostCount}. Throws a
     * {@link BpfException} for a record that cannot be or a sample that contradicts the options; {@link #next}
     * then says where reading goes on.
     */
    int parse(long tail, long head) {
        long at = tail & mask;
        // Records are 8-aligned and the data size a power of two (at least 8), so a header never wraps.
        long header = data.get(JAVA_LONG_UNALIGNED, at);
        int n = (int) PerfLayout.recordSize(header);
        int type = PerfLayout.recordType(header);
        if (n < HEADER_BYTES || (n & 7) != 0 || n > head - tail) {
            next = head;  // the next record cannot be found: resynchronise on the kernel's head
            return throwCorrupt("a record of type " + type + " and size " + n + " at position " + tail
                    + " cannot be; " + (head - tail) + " bytes were skipped to resynchronise on data_head " + head);
        }
        next = tail + n;  // from here on the record counts as read, whatever follows
        size = n;
        if (type != RECORD_SAMPLE && type != RECORD_LOST) {
            return OTHER;  // throttling and other records carry nothing for us
        }
        int needed = type == RECORD_SAMPLE ? minSample : LOST_BYTES;
        if (n < needed) {
            return throwCorrupt("a " + (type == RECORD_SAMPLE ? "SAMPLE" : "LOST") + " record of " + n
                    + " bytes at position " + tail + " is shorter than the " + needed + " bytes its fields take"
                    + (type == RECORD_SAMPLE && timestamps ? " (with timestamps)" : "") + "; the record was skipped");
        }
        MemorySegment rec = data;
        long base = at;
        if (at + n > dataSize) {
            long first = dataSize - at;
            MemorySegment.copy(data, at, scratch, 0, first);
            MemorySegment.copy(data, 0, scratch, first, n - first);
            rec = scratch;
            base = 0;
        }
        record = rec;
        if (type == RECORD_LOST) {
            lostCount = rec.get(JAVA_LONG_UNALIGNED, base + LOST_COUNT);
            return LOST;
        }
        long sizeAt = base + rawSizeAt;
        long raw = Integer.toUnsignedLong(rec.get(JAVA_INT_UNALIGNED, sizeAt));
        if (raw > n - rawSizeAt - RAW_SIZE_BYTES) {
            throw new BpfException("perf sample on CPU " + cpu + " claims " + raw + " raw bytes in a record of "
                    + n + " bytes; the record was skipped (are timestamps configured as the event was opened?)");
        }
        payloadAt = sizeAt + RAW_SIZE_BYTES;
        length = payloadLength(rec, payloadAt, raw);
        time = timestamps ? rec.get(JAVA_LONG_UNALIGNED, base + SAMPLE_TIME) : 0L;
        return SAMPLE;
    }

    /** How many of a sample's {@code raw} bytes at {@code at} are the program's, by the options; throws if none fit. */
    long payloadLength(MemorySegment rec, long at, long raw) {
        if (fixedSize >= 0) {
            if (rawSizeFor(fixedSize) != raw) {
                throw sizeMismatch(raw, fixedSize, "payloadSize");
            }
            return fixedSize;
        }
        if (payloadLength != null) {
            int declared = payloadLength.applyAsInt(rec.asSlice(at, raw));
            if (declared < 0 || rawSizeFor(declared) != raw) {
                throw sizeMismatch(raw, declared, "payloadLength");
            }
            return declared;
        }
        return raw;
    }

    /** The error for a sample whose raw size contradicts {@code option}. */
    BpfException sizeMismatch(long raw, long declared, String option) {
        long lo = Math.max(0, raw - 7);
        return new BpfException("perf sample on CPU " + cpu + " has " + raw + " raw bytes, so the program sent "
                + lo + ".." + raw + " bytes, but the " + option + " option says " + declared + "; the record was "
                + "skipped. Make the option match what the BPF program passes to bpf_perf_event_output");
    }

    /**
     * The SAMPLE records between the tail and the head now, for the count of what a close drops: headers only
     * (no handler, no length function), stopping at the first that cannot be; 0 when the positions cannot be.
     */
    long unreadSamples() {
        long tail = page.get(JAVA_LONG, DATA_TAIL);
        long head = (long) POSITION.getAcquire(page, DATA_HEAD);
        if (head - tail < 0 || head - tail > dataSize || ((head | tail) & 7) != 0) {
            return 0;
        }
        long count = 0;
        for (long pos = tail; pos != head; ) {
            long header = data.get(JAVA_LONG_UNALIGNED, pos & mask);
            long n = PerfLayout.recordSize(header);
            if (n < HEADER_BYTES || (n & 7) != 0 || n > head - pos) {
                break;
            }
            if (PerfLayout.recordType(header) == RECORD_SAMPLE) {
                count++;
            }
            pos += n;
        }
        return count;
    }

    private int throwCorrupt(String what) {
        throw new BpfException("perf ring of CPU " + cpu + " is corrupt: " + what + ". The kernel never writes "
                + "this, so its mapping was changed by someone else (another process that mapped the event?)");
    }
}
