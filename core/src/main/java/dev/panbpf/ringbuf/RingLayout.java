package dev.panbpf.ringbuf;

import dev.panbpf.bindings.bpf_h;
import dev.panbpf.internal.Sys;

import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;

/**
 * RingLayout names, once, the memory a BPF ring buffer map shares with user space ({@code struct bpf_ringbuf} in
 * the kernel's {@code kernel/bpf/ringbuf.c}). Both map types use it: {@code BPF_MAP_TYPE_RINGBUF} (the kernel
 * produces, we consume) and {@code BPF_MAP_TYPE_USER_RINGBUF} (we produce, the kernel consumes).
 *
 * <p>The map fd is mapped in two pieces:
 * <pre>
 *  map offset  0              PAGE             2*PAGE           2*PAGE+size      2*PAGE+2*size
 *              | consumer page | producer page  | data           | data again     |
 *                consumer_pos    producer_pos     size bytes       the same pages, mapped a second time
 *              |&lt;- mapping 1 -&gt;|&lt;------------------------ mapping 2 ------------------------&gt;|
 * </pre>
 * Only the side that moves a position may write its page: for RINGBUF the consumer page is read-write and the
 * rest read-only; for USER_RINGBUF it is the other way round. Because the data pages follow themselves once
 * more, a record that runs past the end of the data area is still one contiguous run of bytes.
 *
 * <p>Positions are byte counts that only grow; a position's place in the data area is {@code pos & (size - 1)}.
 * Every record starts 8-byte aligned with an 8-byte header:
 * <pre>
 *  byte 0                              4                        8
 *  | len (u32)                         | pg_off (u32)           | payload, len bytes | padding to 8 |
 *    bit 31 BUSY, bit 30 DISCARD,        kernel bookkeeping,
 *    bits 0..29 the payload length       ignored here
 * </pre>
 * A producer first reserves (header {@code len | BUSY}, then producer_pos moves past the record), writes the
 * payload, then commits by replacing the header: BUSY cleared, and DISCARD set if the record is to be skipped.
 * The next record starts {@link #stride(long)} bytes later.
 */
final class RingLayout {
    private RingLayout() { }

    /** CONSUMER_POS is the offset of {@code consumer_pos} (u64) in the consumer page. */
    static final long CONSUMER_POS = 0;
    /** PRODUCER_POS is the offset of {@code producer_pos} (u64) in the producer page. */
    static final long PRODUCER_POS = 0;
    /** HEADER_SIZE is the size of a record header; the payload starts this many bytes after it. */
    static final long HEADER_SIZE = bpf_h.BPF_RINGBUF_HDR_SZ();
    /** BUSY_BIT in a header's len: the record is reserved but not yet committed. */
    static final int BUSY_BIT = bpf_h.BPF_RINGBUF_BUSY_BIT();
    /** DISCARD_BIT in a header's len: the record was committed as discarded; skip it. */
    static final int DISCARD_BIT = bpf_h.BPF_RINGBUF_DISCARD_BIT();
    /** LENGTH_MASK keeps the payload length of a header's len. */
    static final int LENGTH_MASK = ~(BUSY_BIT | DISCARD_BIT);
    /**
     * MAX_USER_SAMPLE is the longest payload the kernel accepts from a user ring buffer: it hands each sample to
     * the BPF program as a dynptr, whose size field has 24 bits.
     */
    static final int MAX_USER_SAMPLE = (1 << 24) - 1;

    /** POSITION reads and writes a u64 position: coordinates (segment, long offset). */
    static final VarHandle POSITION = ValueLayout.JAVA_LONG.varHandle();
    /** HEADER reads and writes a record header's u32 len: coordinates (segment, long offset). */
    static final VarHandle HEADER = ValueLayout.JAVA_INT.varHandle();

    /*
     * The consumer reads the whole 8-byte header as one u64 ("header word") rather than the u32 len alone: the
     * length then stays in 64-bit arithmetic on its way into the next position, which saves a sign extension on
     * the one chain of dependent instructions per record. It is safe because the aligned 8-byte load is atomic,
     * the producer only ever changes the len half after reserving, and pg_off is simply ignored.
     */
    private static final int LEN_SHIFT = ByteOrder.nativeOrder() == ByteOrder.LITTLE_ENDIAN ? 0 : 32;
    /** HEADER_WORD reads a whole record header as a u64: coordinates (segment, long offset). */
    static final VarHandle HEADER_WORD = ValueLayout.JAVA_LONG.varHandle();
    /** BUSY_FLAG is {@link #BUSY_BIT} in a header word. */
    static final long BUSY_FLAG = (BUSY_BIT & 0xFFFF_FFFFL) << LEN_SHIFT;
    /** DISCARD_FLAG is {@link #DISCARD_BIT} in a header word. */
    static final long DISCARD_FLAG = (DISCARD_BIT & 0xFFFF_FFFFL) << LEN_SHIFT;
    /**
     * LEN_FIELD keeps the whole u32 len of a header word (length, BUSY and DISCARD), without pg_off: two headers
     * with equal len fields describe committed-or-not records of one length alike.
     */
    static final long LEN_FIELD = 0xFFFF_FFFFL << LEN_SHIFT;

    /** The payload length in a header word. */
    static long payloadLength(long headerWord) {
        return (headerWord >>> LEN_SHIFT) & LENGTH_MASK;
    }

    /** The length of the first mapping (map offset 0): the consumer page. */
    static long consumerMappingLength() {
        return Sys.PAGE_SIZE;
    }

    /** The map offset of the second mapping: the producer page, then the data area twice. */
    static long producerMappingOffset() {
        return Sys.PAGE_SIZE;
    }

    /** The length of the second mapping for a data area of {@code size} bytes. */
    static long producerMappingLength(long size) {
        return Sys.PAGE_SIZE + 2 * size;
    }

    /** Where the data area starts inside the second mapping. */
    static long dataOffset() {
        return Sys.PAGE_SIZE;
    }

    /** The distance from a record's header to the next header: header plus payload, rounded up to 8. */
    static long stride(long payloadLength) {
        return (payloadLength + HEADER_SIZE + 7) & ~7L;
    }
}
