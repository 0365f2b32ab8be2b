package dev.panbpf.perf;

import dev.panbpf.bindings.perf_event_h;
import dev.panbpf.bindings.perf_event_header;
import dev.panbpf.bindings.perf_event_mmap_page;

import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;

/**
 * PerfLayout names, once, the layout of a perf event ring as the kernel writes it for a
 * {@code PERF_COUNT_SW_BPF_OUTPUT} event (include/uapi/linux/perf_event.h, kernel/events/ring_buffer.c).
 *
 * <pre>
 * mapping:   | perf_event_mmap_page (1 page) | data area (2^n pages, mapped once: records wrap) |
 * header:    | u32 type | u16 misc | u16 size |            size counts the whole record, a multiple of 8
 * SAMPLE:    | header | [u64 time] | u32 raw size R | R raw bytes |   time only with PERF_SAMPLE_TIME
 * LOST:      | header | u64 id | u64 lost |
 * </pre>
 *
 * The kernel rounds the raw area so that {@code 4 + R} is a multiple of 8: a program that sent {@code n} bytes
 * produces {@code R = roundUp(n + 4, 8) - 4}, so {@code n <= R <= n + 7}. The padding bytes are skipped, not
 * written: they hold whatever the buffer held before, and nothing in the record says how many there are.
 */
final class PerfLayout {
    private PerfLayout() { }

    // ------------------------------------------------------------------ perf_event_mmap_page (metadata page)

    /** Offset of {@code data_head}: where the kernel will write next (load with acquire). */
    static final long DATA_HEAD = perf_event_mmap_page.data_head$offset();
    /** Offset of {@code data_tail}: how far the consumer has read (store with release). */
    static final long DATA_TAIL = perf_event_mmap_page.data_tail$offset();
    /** Offset of {@code data_offset}: where the data area starts in the mapping. */
    static final long DATA_OFFSET = perf_event_mmap_page.data_offset$offset();
    /** Offset of {@code data_size}: the data area's size in bytes, a power of two. */
    static final long DATA_SIZE = perf_event_mmap_page.data_size$offset();

    /** Acquire/release access to the u64 positions of the metadata page. */
    static final VarHandle POSITION = ValueLayout.JAVA_LONG.varHandle();

    // ------------------------------------------------------------------ perf_event_header

    /** Offset of the record type (u32). */
    static final long TYPE = perf_event_header.type$offset();
    /** Offset of the record size (u16, the whole record including this header). */
    static final long SIZE = perf_event_header.size$offset();
    /** Size of the header; also the alignment of every record. */
    static final int HEADER_BYTES = (int) perf_event_header.sizeof();
    /** The largest record the u16 size field can describe. */
    static final int MAX_RECORD_BYTES = 0xFFFF;

    /*
     * Readers load a record's 8-byte header as one u64 and take type and size out of it: one load and one bounds
     * check instead of two. These shifts find them in that word in either byte order.
     */
    private static final boolean LITTLE = ByteOrder.nativeOrder() == ByteOrder.LITTLE_ENDIAN;
    /** Where the u32 type sits in the header loaded as a u64. */
    static final int TYPE_SHIFT = (int) (LITTLE ? TYPE * 8 : 32 - TYPE * 8);
    /** Where the u16 size sits in the header loaded as a u64. */
    static final int SIZE_SHIFT = (int) (LITTLE ? SIZE * 8 : 48 - SIZE * 8);

    /**
     * The record type in a header loaded as a u64.
     *
     * @param header the first 8 bytes of a record
     * @return the PERF_RECORD_* type
     */
    static int recordType(long header) {
        return (int) (header >>> TYPE_SHIFT);
    }

    /**
     * The record size (bytes, header included) in a header loaded as a u64.
     *
     * @param header the first 8 bytes of a record
     * @return the record's size in bytes
     */
    static int recordSize(long header) {
        return (int) (header >>> SIZE_SHIFT) & 0xFFFF;
    }

    /** PERF_RECORD_SAMPLE: one {@code bpf_perf_event_output}. */
    static final int RECORD_SAMPLE = perf_event_h.PERF_RECORD_SAMPLE();
    /** PERF_RECORD_LOST: the kernel dropped samples because the ring was full. */
    static final int RECORD_LOST = perf_event_h.PERF_RECORD_LOST();

    // ------------------------------------------------------------------ record bodies, relative to the record

    /** Offset of the u64 time in a SAMPLE when timestamps are on. */
    static final long SAMPLE_TIME = HEADER_BYTES;
    /** Bytes of the raw size field that precedes the raw bytes. */
    static final int RAW_SIZE_BYTES = Integer.BYTES;
    /** Offset of the u64 lost count in a LOST record (after the u64 id). */
    static final long LOST_COUNT = HEADER_BYTES + Long.BYTES;

    /**
     * Offset of the u32 raw size in a SAMPLE, with or without the time before it.
     *
     * @param timestamps whether samples carry PERF_SAMPLE_TIME
     * @return the offset from the record start, in bytes
     */
    static long rawSizeOffset(boolean timestamps) {
        return timestamps ? SAMPLE_TIME + Long.BYTES : HEADER_BYTES;
    }

    /**
     * The raw size the kernel writes for a program that sent {@code n} bytes.
     *
     * @param n the payload size the program passed to bpf_perf_event_output
     * @return the raw size, padded so the record stays 8-byte aligned
     */
    static long rawSizeFor(long n) {
        return ((n + RAW_SIZE_BYTES + 7) & ~7L) - RAW_SIZE_BYTES;
    }

    // ------------------------------------------------------------------ perf_event_attr values

    /** CLOCK_MONOTONIC from {@code <time.h>} (1 on every Linux architecture): the clock of bpf_ktime_get_ns. */
    static final int CLOCK_MONOTONIC = 1;
}
