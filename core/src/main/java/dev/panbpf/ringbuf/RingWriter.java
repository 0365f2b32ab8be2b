package dev.panbpf.ringbuf;

import dev.panbpf.BpfException;

import java.lang.foreign.MemorySegment;
import java.util.concurrent.atomic.AtomicLong;

import static dev.panbpf.ringbuf.RingLayout.BUSY_BIT;
import static dev.panbpf.ringbuf.RingLayout.CONSUMER_POS;
import static dev.panbpf.ringbuf.RingLayout.DISCARD_BIT;
import static dev.panbpf.ringbuf.RingLayout.HEADER;
import static dev.panbpf.ringbuf.RingLayout.HEADER_SIZE;
import static dev.panbpf.ringbuf.RingLayout.LENGTH_MASK;
import static dev.panbpf.ringbuf.RingLayout.POSITION;
import static dev.panbpf.ringbuf.RingLayout.PRODUCER_POS;

/**
 * RingWriter is the producer half of the BPF ring buffer protocol, for a user ring buffer we write and the kernel
 * drains (layout in {@link RingLayout}; the roles of a kernel ring are swapped: we own producer_pos and the data,
 * the kernel owns consumer_pos). Everything that touches the shared memory on the producer side is in this file.
 * <ol>
 *   <li>reserve: acquire-load {@code consumer_pos} (the kernel is done with the space below it), check there is
 *       room for header plus payload, write the header {@code len | BUSY}, then release-store the new
 *       {@code producer_pos}, so the kernel sees the BUSY header before it sees the space as reserved;</li>
 *   <li>commit: replace the header with {@code len} (submit) or {@code len | DISCARD} (discard) by compare-and-set,
 *       with release semantics: the payload is visible before the header changes, and exactly one of two racing
 *       commits (a submit and a close discarding what is pending) clears BUSY.</li>
 * </ol>
 * The kernel drains in order and stops at the first BUSY header, so a sample reserved and never committed holds
 * back every sample after it: {@link #discardPending()} is what a closing writer leaves behind instead.
 *
 * <p>Reserving is not thread-safe (its owner admits one reserver at a time); commits may come from any thread.
 */
final class RingWriter {
    private final String name;
    private final MemorySegment consumerPage;
    private final MemorySegment producerPage;
    private final MemorySegment data;
    private final long size;
    private final long mask;
    /** Our producer position; only the admitted reserver moves it. */
    private long producerPos;
    private final AtomicLong submitted = new AtomicLong();
    private final AtomicLong discarded = new AtomicLong();

    /**
     * A writer for the ring {@code name} (for messages) whose data area of {@code size} bytes is {@code data}. It
     * starts where the producer page says.
     */
    RingWriter(String name, MemorySegment consumerPage, MemorySegment producerPage, MemorySegment data, long size) {
        if (size <= 0 || Long.bitCount(size) != 1 || data.byteSize() < size) {
            throw new IllegalArgumentException(name + ": data area of " + data.byteSize() + " bytes does not hold "
                    + "a power-of-two size " + size);
        }
        this.name = name;
        this.consumerPage = consumerPage;
        this.producerPage = producerPage;
        this.data = data;
        this.size = size;
        this.mask = size - 1;
        this.producerPos = (long) POSITION.getAcquire(producerPage, PRODUCER_POS);
    }

    /** The largest sample this ring can take: its size less one header, and at most 16 MiB - 1 (a dynptr). */
    int maxSampleSize() {
        return (int) Math.min(RingLayout.MAX_USER_SAMPLE, size - HEADER_SIZE);
    }

    /** Refuses a sample size that could never fit, saying what would. */
    void checkSize(int length) {
        if (length < 0 || length > maxSampleSize()) {
            throw new IllegalArgumentException(name + ": a sample of " + length + " bytes cannot fit; samples "
                    + "take 0 to " + maxSampleSize() + " bytes here (the ring's " + size + " bytes less the "
                    + HEADER_SIZE + "-byte header, and the kernel's limit of " + RingLayout.MAX_USER_SAMPLE
                    + "); make the map larger or the sample smaller");
        }
    }

    /**
     * Reserves a sample of {@code length} bytes (checked with {@link #checkSize}) and returns its payload, or null
     * when the kernel has not drained enough room yet.
     */
    MemorySegment tryReserve(int length) {
        long stride = RingLayout.stride(length);
        // Acquire: the kernel is done with the space below consumer_pos before we can see it moved.
        long consumer = (long) POSITION.getAcquire(consumerPage, CONSUMER_POS);
        long producer = producerPos;
        long used = producer - consumer;
        if (used < 0 || used > size || (consumer & (HEADER_SIZE - 1)) != 0) {
            throw new BpfException(name + " is corrupt: consumer position " + consumer + " does not fit producer "
                    + "position " + producer + " in a ring of " + size + " bytes; recreate the map");
        }
        if (size - used < stride) {
            return null;
        }
        long offset = producer & mask;
        HEADER.set(data, offset, length | BUSY_BIT);
        HEADER.set(data, offset + Integer.BYTES, 0);      // pg_off: unused for user rings, cleared of old data
        producerPos = producer + stride;
        // Release: the BUSY header is visible before the kernel can see the space as reserved.
        POSITION.setRelease(producerPage, PRODUCER_POS, producerPos);
        return data.asSlice(offset + HEADER_SIZE, length);
    }

    /**
     * Commits {@code sample}, submitted or discarded, and returns true; false when it is not pending (committed
     * already, by the caller or by {@link #discardPending()}, or a slice of a sample). Throws an
     * IllegalArgumentException for a segment that is not in this ring's data area at a record's place, and the
     * segment's IllegalStateException once the mapping is gone.
     */
    boolean commit(MemorySegment sample, boolean discard) {
        long offset = sample.address() - data.address() - HEADER_SIZE;
        if (offset < 0 || offset >= size || (offset & (HEADER_SIZE - 1)) != 0) {
            throw new IllegalArgumentException("this segment is not a sample reserved from " + name);
        }
        int header = (int) HEADER.getAcquire(data, offset);
        if ((header & BUSY_BIT) == 0 || (header & LENGTH_MASK) != sample.byteSize()) {
            return false;
        }
        // compareAndSet is a volatile write, so it also orders the payload bytes before the new header.
        if (!HEADER.compareAndSet(data, offset, header, (int) sample.byteSize() | (discard ? DISCARD_BIT : 0))) {
            return false;
        }
        (discard ? discarded : submitted).incrementAndGet();
        return true;
    }

    /**
     * Discards every sample still reserved and returns how many there were, so that the ring does not stay stuck
     * behind a BUSY header nobody can clear once the writer is gone. For close, when no reserve is in progress; a
     * commit racing it on another thread wins or loses the header's compare-and-set. Touches nothing when the
     * positions make no sense.
     */
    long discardPending() {
        long pos = (long) POSITION.getAcquire(consumerPage, CONSUMER_POS);
        long end = producerPos;
        if (end - pos < 0 || end - pos > size) {
            return 0;
        }
        long dropped = 0;
        while (pos < end) {
            long offset = pos & mask;
            int header = (int) HEADER.getAcquire(data, offset);
            int length = header & LENGTH_MASK;
            if ((header & BUSY_BIT) != 0 && HEADER.compareAndSet(data, offset, header, length | DISCARD_BIT)) {
                dropped++;
            }
            pos += RingLayout.stride(length);
        }
        return dropped;
    }

    /** The size of the data area in bytes. */
    long size() {
        return size;
    }

    /** Bytes free for new samples now, as the shared pages say. */
    long freeBytes() {
        return size - (producerPosition() - consumerPosition());
    }

    /** The producer position on the shared page. */
    long producerPosition() {
        return (long) POSITION.getAcquire(producerPage, PRODUCER_POS);
    }

    /** The consumer position: what the kernel has drained. */
    long consumerPosition() {
        return (long) POSITION.getAcquire(consumerPage, CONSUMER_POS);
    }

    /** Samples submitted so far. */
    long submitted() {
        return submitted.get();
    }

    /** Samples discarded by the caller so far (not those {@link #discardPending()} dropped). */
    long discarded() {
        return discarded.get();
    }
}
