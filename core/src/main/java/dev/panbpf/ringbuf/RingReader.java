package dev.panbpf.ringbuf;

import dev.panbpf.BpfException;

import java.lang.foreign.MemorySegment;
import java.lang.invoke.VarHandle;
import java.util.concurrent.atomic.AtomicLong;

import static dev.panbpf.ringbuf.RingLayout.BUSY_FLAG;
import static dev.panbpf.ringbuf.RingLayout.CONSUMER_POS;
import static dev.panbpf.ringbuf.RingLayout.DISCARD_FLAG;
import static dev.panbpf.ringbuf.RingLayout.HEADER_SIZE;
import static dev.panbpf.ringbuf.RingLayout.HEADER_WORD;
import static dev.panbpf.ringbuf.RingLayout.LEN_FIELD;
import static dev.panbpf.ringbuf.RingLayout.POSITION;
import static dev.panbpf.ringbuf.RingLayout.PRODUCER_POS;
import static java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED;

/**
 * RingReader is the consumer half of the BPF ring buffer protocol, over the segments of one mapped ring (layout in
 * {@link RingLayout}). Everything that touches the shared memory on the consumer side is in this file.
 *
 * <p>One pass ({@link #drain}) works like this:
 * <ol>
 *   <li>acquire-load {@code producer_pos}: every header written before the producer moved it is visible;</li>
 *   <li>for each record up to there: acquire-load its header (as one u64 word, see {@link RingLayout#HEADER_WORD}).
 *       BUSY: the producer is still writing it, stop (the records after it wait too, so order is kept). DISCARD:
 *       skip it. Otherwise hand the payload to the handler as a read-only slice of the mapping;</li>
 *   <li>records of one program very often share one length ({@code bpf_ringbuf_reserve} takes a constant size), so
 *       after a committed record the pass looks ahead: the headers at the positions a run of equal records would
 *       have are loaded independently, compared with this one's len field, and covered by one acquire fence; the
 *       run that matches is delivered without reading its headers again. Any other header (another length, BUSY,
 *       DISCARD) ends the run and goes through the step above;</li>
 *   <li>release-store the new {@code consumer_pos} every {@link #RETURN_EVERY} records and on the way out (end of
 *       the pass, a handler asking to stop or throwing, a close), so a record's space goes back to producers at
 *       most that many records after its handler returned, and never before.</li>
 * </ol>
 * Positions and lengths come from memory the kernel (or, for a map shared with another process, someone else)
 * writes, so they are checked before use: a record must end at or before {@code producer_pos}, the producer may be
 * at most one ring size ahead of us and never move back, and nobody else may move {@code consumer_pos}. A
 * violation raises a {@link BpfException}; no read leaves the mapping and no loop runs without progress.
 *
 * <p>Headers are read through {@link #HEADERS}, a view without a liveness check, at addresses computed here from
 * the data area's start and {@code pos & (size - 1)}: always inside the first copy of the data area. That is sound
 * only while the mapping stays mapped, so {@link #drain} may only run while the owner's
 * {@link dev.panbpf.internal.ConsumerGate} admits the caller (the gate unmaps only when no consumer is inside).
 * What the handler gets, and every other read, goes through the mapping's own segments, which throw once closed.
 *
 * <p>Not thread-safe: its owner admits one consumer at a time. The counters may be read from any thread.
 */
final class RingReader {
    /**
     * RETURN_EVERY is how many records (delivered or discarded) a pass steps over at most before it publishes
     * {@code consumer_pos}, handing their space back to producers; a pass also publishes on its way out.
     */
    static final int RETURN_EVERY = 64;

    /**
     * The whole address space as one segment of the global scope. Loads through a shared arena's segment check
     * the arena's state, and the JIT repeats that check (and reloads the segment's bounds) after every acquire
     * fence, i.e. per header; through this constant nothing is left to reload. Only header reads use it, only
     * under the conditions in the class comment.
     */
    private static final MemorySegment HEADERS = MemorySegment.NULL.reinterpret(Long.MAX_VALUE);

    private final String name;
    private final MemorySegment consumerPage;
    private final MemorySegment producerPage;
    private final MemorySegment data;
    /** The address of the data area's first byte. */
    private final long base;
    private final long size;
    private final long mask;

    /** What this reader last published; the consumer page must still hold it. */
    private long consumerPos;
    /** The highest producer position seen; it must never go down. */
    private long lastProducerPos;
    /** Whether the handler asked to stop during the last pass. */
    private boolean stopped;
    /**
     * Set by the owner's close(): the pass in progress stops after the current record. A plain field: a handler
     * closing its own reader runs on this thread; a close from another thread is seen at the latest at the next
     * header read (its acquire fence makes the loop read the field again), i.e. within one run of records.
     */
    private boolean closing;
    /** Counters with one writer (the consumer), read from any thread; release stores keep writing fence-free. */
    private final AtomicLong delivered = new AtomicLong();
    private final AtomicLong discarded = new AtomicLong();

    /**
     * A reader for the ring {@code name} (for messages) whose data area of {@code size} bytes is {@code data}
     * ({@code 2 * size} bytes of native memory: the area and its second mapping). It starts where the consumer
     * page says.
     */
    RingReader(String name, MemorySegment consumerPage, MemorySegment producerPage, MemorySegment data, long size) {
        if (size <= 0 || Long.bitCount(size) != 1 || data.byteSize() < 2 * size || !data.isNative()) {
            throw new IllegalArgumentException(name + ": data area of " + data.byteSize() + " bytes does not hold "
                    + "twice a power-of-two size " + size + " of native memory");
        }
        this.name = name;
        this.consumerPage = consumerPage;
        this.producerPage = producerPage;
        this.data = data;
        this.base = data.address();
        this.size = size;
        this.mask = size - 1;
        long start = (long) POSITION.getAcquire(consumerPage, CONSUMER_POS);
        if ((start & (HEADER_SIZE - 1)) != 0) {
            throw corrupt("consumer position " + start + " is not 8-byte aligned");
        }
        this.consumerPos = start;
        this.lastProducerPos = start;
        checkedProducerPosition(start);
    }

    /**
     * Delivers up to {@code limit} records published before this pass started and returns how many it delivered
     * (discarded records are skipped, counted apart, and do not count toward the limit). The consumer position is
     * published every {@link #RETURN_EVERY} records and on the way out, also when the handler throws: the record
     * it threw on counts as consumed.
     */
    int drain(RecordHandler handler, int limit) {
        final MemorySegment data = this.data;
        final long base = this.base;
        final long mask = this.mask;
        final long start = checkedConsumerPosition();
        final long end = checkedProducerPosition(start);
        long pos = start;
        long published = start;
        int unpublished = 0;            // records stepped over since consumer_pos was last stored
        int handed = 0;
        int skipped = 0;
        boolean stop = false;
        try {
            while (pos != end && handed < limit) {
                // A plain load followed by an acquire fence is an acquire load; the payload reads come after it.
                long header = HEADERS.get(JAVA_LONG_UNALIGNED, base + (pos & mask));
                VarHandle.acquireFence();
                if ((header & BUSY_FLAG) != 0) {
                    break;
                }
                long length = RingLayout.payloadLength(header);
                long stride = RingLayout.stride(length);
                if (end - (pos + stride) < 0) {
                    throw recordPastProducer(pos, header, end);
                }
                int run = 1;
                if ((header & DISCARD_FLAG) != 0) {
                    pos += stride;      // consumed
                    skipped++;
                } else {
                    // Look ahead for records of this same len field (so committed, not discarded, this length),
                    // each ending at or before end; one fence then orders all those header loads before the
                    // payload reads.
                    int most = Math.min(RETURN_EVERY - unpublished, limit - handed);
                    long field = header & LEN_FIELD;
                    long next = pos + stride;
                    while (run < most && end - (next + stride) >= 0
                            && (HEADERS.get(JAVA_LONG_UNALIGNED, base + (next & mask)) & LEN_FIELD) == field) {
                        run++;
                        next += stride;
                    }
                    VarHandle.acquireFence();
                    for (int i = 0; i < run; i++) {
                        long offset = pos & mask;
                        pos += stride;  // consumed from here on, even if the handler throws
                        handed++;
                        if (!handler.onRecord(data.asSlice(offset + HEADER_SIZE, length)) || closing) {
                            stop = true;
                            break;
                        }
                    }
                    if (stop) {
                        break;
                    }
                }
                unpublished += run;
                if (unpublished == RETURN_EVERY) {
                    // Release: the handlers' reads of these records happen before the kernel may reuse them.
                    POSITION.setRelease(consumerPage, CONSUMER_POS, pos);
                    published = pos;
                    unpublished = 0;
                }
            }
        } finally {
            if (pos != published) {
                POSITION.setRelease(consumerPage, CONSUMER_POS, pos);
            }
            consumerPos = pos;
            if (handed != 0) {
                delivered.setRelease(delivered.getPlain() + handed);
            }
            if (skipped != 0) {
                discarded.setRelease(discarded.getPlain() + skipped);
            }
            stopped = stop;
        }
        return handed;
    }

    /** What {@link #readiness()} found: records to read. */
    static final int WORK = 0;
    /** What {@link #readiness()} found: nothing published; epoll will report the next record. */
    static final int EMPTY = 1;
    /** What {@link #readiness()} found: the head record is reserved but not committed (BUSY). */
    static final int HEAD_BUSY = 2;

    /**
     * Whether the consumer may go to sleep now without missing a wakeup. The kernel wakes the consumer only when
     * it commits the record at exactly the consumer position we published, and it decides that by reading our
     * position after its commit. So: full fence (our consumer_pos store is globally visible before we look at the
     * producer side again), then re-read. EMPTY: sleep on epoll, the next commit wakes us. HEAD_BUSY: the
     * producer that commits it will wake us, but epoll reports the ring readable meanwhile (producer_pos differs
     * from consumer_pos), so the caller must sleep some other way ({@link BusyBackoff}).
     * WORK: read again; sleeping could lose it.
     */
    int readiness() {
        VarHandle.fullFence();
        long end = (long) POSITION.getAcquire(producerPage, PRODUCER_POS);
        if (end == consumerPos) {
            return EMPTY;
        }
        long header = (long) HEADER_WORD.getAcquire(data, consumerPos & mask);
        return (header & BUSY_FLAG) != 0 ? HEAD_BUSY : WORK;
    }

    /**
     * Makes the pass in progress (if any) stop after the record being handled, or, from another thread, within
     * the run of records being delivered; for close().
     */
    void stopForClose() {
        closing = true;
    }

    /** Whether the handler returned false during the last pass. */
    boolean stopped() {
        return stopped;
    }

    /** The size of the data area in bytes. */
    long size() {
        return size;
    }

    /** The producer position now. */
    long producerPosition() {
        return (long) POSITION.getAcquire(producerPage, PRODUCER_POS);
    }

    /** The consumer position now. */
    long consumerPosition() {
        return (long) POSITION.getAcquire(consumerPage, CONSUMER_POS);
    }

    /** Bytes published but not yet consumed, headers and discarded records included. */
    long availableBytes() {
        long consumer = consumerPosition();
        return Math.max(0, producerPosition() - consumer);
    }

    /** Records handed to a handler so far. */
    long delivered() {
        return delivered.getAcquire();
    }

    /** Discarded records skipped so far. */
    long discarded() {
        return discarded.getAcquire();
    }

    private long checkedConsumerPosition() {
        long onPage = (long) POSITION.getAcquire(consumerPage, CONSUMER_POS);
        if (onPage != consumerPos) {
            throw new BpfException(name + ": the consumer position moved from " + consumerPos + " to " + onPage
                    + " without this reader; something else consumes this ring (another process, or another "
                    + "reader on the same map), and two consumers corrupt each other. Give the ring one consumer");
        }
        return onPage;
    }

    private long checkedProducerPosition(long consumer) {
        long end = (long) POSITION.getAcquire(producerPage, PRODUCER_POS);
        if (end - lastProducerPos < 0) {
            throw corrupt("the producer position went back from " + lastProducerPos + " to " + end);
        }
        if (end - consumer > size) {
            throw corrupt("the producer position " + end + " is more than the ring size " + size
                    + " ahead of the consumer position " + consumer);
        }
        if ((end & (HEADER_SIZE - 1)) != 0) {
            throw corrupt("producer position " + end + " is not 8-byte aligned");
        }
        lastProducerPos = end;
        return end;
    }

    /**
     * The error for a record that runs past the producer position. It takes the header word, not the length: with
     * the length live on this never-taken path, C2 (JDK 25) kept the loop's position in a vector register and the
     * drain ran at 5.9 instead of 3.4 ns per 16-byte record.
     */
    private BpfException recordPastProducer(long pos, long header, long end) {
        return corrupt("the record at position " + pos + " claims " + RingLayout.payloadLength(header) + " bytes, "
                + "running past the producer position " + end);
    }

    private BpfException corrupt(String what) {
        return new BpfException(name + " is corrupt: " + what + ". The kernel never writes this, so the shared "
                + "pages were changed by someone else; reading stopped before the bad data. Recreate the map");
    }
}
