package dev.panbpf.ringbuf;

import dev.panbpf.BpfException;
import dev.panbpf.BpfMap;
import dev.panbpf.BufferClosedException;
import dev.panbpf.MapType;
import dev.panbpf.bindings.sys_epoll_h;
import dev.panbpf.internal.ConsumerGate;
import dev.panbpf.internal.Deadline;
import dev.panbpf.internal.Epoll;
import dev.panbpf.internal.RingClaims;
import dev.panbpf.internal.RingSize;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.lang.foreign.MemorySegment;
import java.time.Duration;
import java.util.Objects;
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
 * UserRingBuffer writes a {@code BPF_MAP_TYPE_USER_RINGBUF} map: Java reserves a sample, fills it in place and
 * submits it; a BPF program takes the samples in order with {@code bpf_user_ringbuf_drain}.
 *
 * <pre>{@code
 * try (UserRingBuffer ring = UserRingBuffer.of(object.map("commands"))) {
 *     MemorySegment sample = ring.reserve(16, Duration.ofSeconds(1));
 *     sample.set(JAVA_LONG, 0, command);
 *     sample.set(JAVA_LONG, 8, argument);
 *     ring.submit(sample);
 * }
 * }</pre>
 *
 * <p>The roles of {@link RingBuffer} are swapped (layout in {@link RingLayout}): we own producer_pos and the data,
 * the kernel owns consumer_pos. Reserving writes the header {@code size | BUSY} and release-stores the new
 * producer_pos; submitting (or discarding) release-stores the final header, after which the kernel may read the
 * sample. Samples are handed out and drained in reservation order, and a sample that is reserved but not yet
 * submitted holds back the ones after it: submit or discard every sample you reserve, or the ring stays stuck.
 *
 * <p>One thread at a time may reserve (a second concurrent reserver is refused with an exception); any thread may
 * submit or discard a sample it was handed. {@link #wakeup()} and {@link #close()} release a thread waiting in
 * {@link #reserve(int, Duration)} at once.
 */
public final class UserRingBuffer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(UserRingBuffer.class);
    private final String name;
    private final MemorySegment consumerPage;
    private final MemorySegment producerPage;
    private final MemorySegment data;
    private final long size;
    private final long mask;
    private final Epoll epoll;
    private final ConsumerGate gate;
    private final AtomicLong submitted = new AtomicLong();
    private final AtomicLong discarded = new AtomicLong();
    private volatile long droppedAtClose;
    /** Our producer position; only the admitted reserver moves it. */
    private long producerPos;

    private UserRingBuffer(String name, RingMapping mapping, Epoll epoll, int claim) {
        this.name = name;
        this.consumerPage = mapping.consumerPage();
        this.producerPage = mapping.producerPage();
        this.data = mapping.data();
        this.size = mapping.size();
        this.mask = size - 1;
        this.epoll = epoll;
        this.producerPos = (long) POSITION.getAcquire(producerPage, PRODUCER_POS);
        this.gate = new ConsumerGate(name, "already has a thread reserving",
                "one thread at a time may reserve; reserve from one thread or guard reserve with a lock", () -> {
                    try {
                        discardPending();
                    } finally {
                        try {
                            epoll.close();
                        } finally {
                            RingClaims.release(claim);
                            mapping.close();      // waits for a native call holding a sample, at most 10 s
                        }
                    }
                });
    }

    /** Maps {@code map}, which must be a {@code BPF_MAP_TYPE_USER_RINGBUF}, to write samples into it. */
    public static UserRingBuffer of(BpfMap map) {
        String name = "user ring buffer '" + map.name() + "'";
        if (map.mapType() != MapType.USER_RINGBUF) {
            throw new IllegalArgumentException(map + " is not a user ring buffer; UserRingBuffer writes "
                    + "BPF_MAP_TYPE_USER_RINGBUF maps" + (map.mapType() == MapType.RINGBUF
                    ? " (read a RINGBUF with RingBuffer)" : ""));
        }
        RingSize.check(map.name(), map.maxEntries());
        int fd = map.fd();
        int claim = RingClaims.claim(fd, name);
        RingMapping mapping = null;
        Epoll epoll = null;
        try {
            mapping = RingMapping.forProducer(fd, map.maxEntries(), name);
            epoll = new Epoll(1);
            // Edge-triggered: the kernel reports EPOLLOUT whenever the ring is not completely full, which says
            // nothing about room for our sample; what we wait for is the wakeup it sends after each drain.
            epoll.add(fd, sys_epoll_h.EPOLLOUT() | sys_epoll_h.EPOLLET(), 0);
            return new UserRingBuffer(name, mapping, epoll, claim);
        } catch (RuntimeException e) {
            if (epoll != null) {
                epoll.close();
            }
            if (mapping != null) {
                mapping.close();
            }
            RingClaims.release(claim);
            throw e;
        }
    }

    /**
     * Reserves a sample of {@code size} bytes and returns it to be filled in, or null when the ring has no room
     * for it now. The bytes are left over from earlier samples: write all of them. Throws for a size that could
     * never fit (see {@link #maxSampleSize()}).
     */
    public MemorySegment reserve(int size) {
        checkSize(size);
        gate.enter();
        try {
            return tryReserve(size);
        } finally {
            gate.exit();
        }
    }

    /**
     * Reserves a sample of {@code size} bytes, waiting up to {@code timeout} for the BPF side to drain enough room;
     * returns null when the time is up or {@link #wakeup()} or {@link #close()} was called meanwhile.
     */
    public MemorySegment reserve(int size, Duration timeout) {
        checkSize(size);
        long deadline = Deadline.after(timeout);
        gate.enter();
        try {
            while (true) {
                MemorySegment sample = tryReserve(size);
                if (sample != null || gate.isClosed() || Deadline.passed(deadline)) {
                    return sample;
                }
                if (epoll.awaitWokenUp(deadline)) {
                    return null;
                }
            }
        } finally {
            gate.exit();
        }
    }

    private MemorySegment tryReserve(int length) {
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

    /** Hands {@code sample}, as returned by reserve and filled in, to the BPF side. Any thread. */
    public void submit(MemorySegment sample) {
        commit(sample, 0);
        submitted.incrementAndGet();
    }

    /** Gives back {@code sample} unsent: the BPF side skips it. Any thread. */
    public void discard(MemorySegment sample) {
        commit(sample, DISCARD_BIT);
        discarded.incrementAndGet();
    }

    private void commit(MemorySegment sample, int flags) {
        Objects.requireNonNull(sample, "sample");
        gate.checkOpen();
        long offset = sample.address() - data.address() - HEADER_SIZE;
        if (offset < 0 || offset >= size || (offset & (HEADER_SIZE - 1)) != 0) {
            throw new IllegalArgumentException("this segment is not a sample reserved from " + name);
        }
        try {
            int header = (int) HEADER.getAcquire(data, offset);
            // A compare-and-set, not a store: close() may be discarding this very sample on another thread, and
            // exactly one of the two must clear BUSY. Release: the bytes are visible before the header changes.
            if ((header & BUSY_BIT) == 0 || (header & LENGTH_MASK) != sample.byteSize()
                    || !HEADER.compareAndSet(data, offset, header, (int) sample.byteSize() | flags)) {
                gate.checkOpen();                       // close() discarded it meanwhile: say closed
                throw new IllegalArgumentException("this segment is not a pending sample of " + name + ": it was "
                        + "submitted or discarded already, or is a slice of one; pass the segment reserve returned, "
                        + "once");
            }
        } catch (IllegalStateException unmapped) {
            throw new BufferClosedException(name);     // close() unmapped the ring under us: the sample is gone
        }
    }

    /**
     * Discards every sample still reserved, so that the ring does not stay stuck behind a BUSY header nobody can
     * clear once this writer is gone (the BPF side drains only up to the first BUSY sample). Runs at close, when
     * no reserve is in progress; a submit racing it on another thread wins or loses the header's compare-and-set.
     */
    private void discardPending() {
        long pos = (long) POSITION.getAcquire(consumerPage, CONSUMER_POS);
        long end = producerPos;
        if (end - pos < 0 || end - pos > size) {
            return;                                     // positions make no sense: touch nothing
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
        if (dropped > 0) {
            droppedAtClose = dropped;
            LOG.warn("{}: closed with {} samples reserved but never submitted; they were discarded so the ring "
                    + "keeps draining (submit or discard every sample before close())", name, dropped);
        }
    }

    /** The largest sample this ring can take: its size less one header, and at most 16 MiB - 1 (a dynptr). */
    public int maxSampleSize() {
        return (int) Math.min(RingLayout.MAX_USER_SAMPLE, size - HEADER_SIZE);
    }

    private void checkSize(int length) {
        if (length < 0 || length > maxSampleSize()) {
            throw new IllegalArgumentException(name + ": a sample of " + length + " bytes cannot fit; samples "
                    + "take 0 to " + maxSampleSize() + " bytes here (the ring's " + size + " bytes less the "
                    + HEADER_SIZE + "-byte header, and the kernel's limit of " + RingLayout.MAX_USER_SAMPLE
                    + "); make the map larger or the sample smaller");
        }
    }

    /** Makes a reserve waiting now return null at once (or the next one that would wait). Any thread. */
    public void wakeup() {
        epoll.wakeup();
    }

    /**
     * Closes this writer: a reserve waiting for room returns null at once, and the mapping is released when no
     * reserve is in progress. Samples submitted before stay in the ring for the BPF side; samples reserved and not
     * yet submitted are discarded (counted in {@link #droppedAtClose()}), and submitting them afterwards throws
     * {@link BufferClosedException}. Idempotent.
     */
    @Override
    public void close() {
        if (gate.close()) {
            epoll.wakeup();
        }
    }

    /** Whether {@link #close()} was called. */
    public boolean isClosed() {
        return gate.isClosed();
    }

    /** The size of the data area in bytes (the map's max_entries). */
    public long size() {
        return size;
    }

    /**
     * Bytes free for new samples now (each sample takes its size plus an 8-byte header, rounded up to 8).
     *
     * @return the free byte count
     * @throws BufferClosedException after {@link #close()}, also when a close races this call
     */
    public long freeBytes() {
        return gate.query(() -> size - ((long) POSITION.getAcquire(producerPage, PRODUCER_POS)
                - (long) POSITION.getAcquire(consumerPage, CONSUMER_POS)));
    }

    /**
     * The producer position: total bytes reserved so far, headers and padding included.
     *
     * @return the position
     * @throws BufferClosedException after {@link #close()}, also when a close races this call
     */
    public long producerPosition() {
        return gate.query(() -> (long) POSITION.getAcquire(producerPage, PRODUCER_POS));
    }

    /**
     * The consumer position: total bytes the BPF side has drained.
     *
     * @return the position
     * @throws BufferClosedException after {@link #close()}, also when a close races this call
     */
    public long consumerPosition() {
        return gate.query(() -> (long) POSITION.getAcquire(consumerPage, CONSUMER_POS));
    }

    /**
     * Samples that were reserved and never submitted or discarded when this writer closed; close discards them
     * so the ring keeps draining.
     *
     * @return the count, 0 before close
     */
    public long droppedAtClose() {
        return droppedAtClose;
    }

    /** The number of samples submitted so far. */
    public long submitted() {
        return submitted.get();
    }

    /** The number of samples discarded so far. */
    public long discarded() {
        return discarded.get();
    }

    @Override
    public String toString() {
        return name + (isClosed() ? " (closed)" : "");
    }
}
