package dev.panbpf.ringbuf;

import dev.panbpf.BpfMap;
import dev.panbpf.BufferClosedException;
import dev.panbpf.MapType;
import dev.panbpf.bindings.sys_epoll_h;
import dev.panbpf.internal.ConsumerGate;
import dev.panbpf.internal.Deadline;
import dev.panbpf.internal.Epoll;
import dev.panbpf.internal.MapClaims;
import dev.panbpf.internal.RingSize;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.lang.foreign.MemorySegment;
import java.time.Duration;
import java.util.Objects;

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
 * <p>The roles of {@link RingBuffer} are swapped: we own producer_pos and the data, the kernel owns consumer_pos
 * (the protocol is in {@link RingWriter}). Samples are handed out and drained in reservation order, and a sample
 * that is reserved but not yet submitted holds back the ones after it: submit or discard every sample you reserve,
 * or the ring stays stuck.
 *
 * <p>One thread at a time may reserve (a second concurrent reserver is refused with an exception); any thread may
 * submit or discard a sample it was handed. {@link #wakeup()} and {@link #close()} release a thread waiting in
 * {@link #reserve(int, Duration)} at once.
 */
public final class UserRingBuffer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(UserRingBuffer.class);
    private final String name;
    private final RingWriter writer;
    private final Epoll epoll;
    private final ConsumerGate gate;
    private volatile long droppedAtClose;

    private UserRingBuffer(String name, RingMapping mapping, Epoll epoll, int claim) {
        this.name = name;
        this.writer = new RingWriter(name, mapping.consumerPage(), mapping.producerPage(), mapping.data(),
                mapping.size());
        this.epoll = epoll;
        this.gate = new ConsumerGate(name, "already has a thread reserving",
                "one thread at a time may reserve; reserve from one thread or guard reserve with a lock", () -> {
                    try {
                        discardPending();
                    } finally {
                        try {
                            epoll.close();
                        } finally {
                            MapClaims.RINGS.release(claim);
                            mapping.close();      // waits for a native call holding a sample, at most 10 s
                        }
                    }
                });
    }

    /**
     * Maps {@code map}, which must be a {@code BPF_MAP_TYPE_USER_RINGBUF}, to write samples into it.
     *
     * @param map the user ring buffer map
     * @return a writer of the ring, to be closed
     */
    public static UserRingBuffer of(BpfMap map) {
        String name = "user ring buffer '" + map.name() + "'";
        if (map.mapType() != MapType.USER_RINGBUF) {
            throw new IllegalArgumentException(map + " is not a user ring buffer; UserRingBuffer writes "
                    + "BPF_MAP_TYPE_USER_RINGBUF maps" + (map.mapType() == MapType.RINGBUF
                    ? " (read a RINGBUF with RingBuffer)" : ""));
        }
        RingSize.check(map.name(), map.maxEntries());
        int fd = map.fd();
        int claim = MapClaims.RINGS.claim(fd, name);
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
            MapClaims.RINGS.release(claim);
            throw e;
        }
    }

    /**
     * Reserves a sample of {@code size} bytes and returns it to be filled in, or null when the ring has no room
     * for it now. The bytes are left over from earlier samples: write all of them. Throws for a size that could
     * never fit (see {@link #maxSampleSize()}).
     *
     * @param size the sample size in bytes
     * @return the sample to fill in, or null when the ring is full
     */
    public MemorySegment reserve(int size) {
        writer.checkSize(size);
        gate.enter();
        try {
            return writer.tryReserve(size);
        } finally {
            gate.exit();
        }
    }

    /**
     * Reserves a sample of {@code size} bytes, waiting up to {@code timeout} for the BPF side to drain enough room;
     * returns null when the time is up, {@link #wakeup()} or {@link #close()} was called meanwhile, or the thread
     * is interrupted (its status stays set).
     *
     * @param size the sample size in bytes
     * @param timeout the longest wait for room
     * @return the sample to fill in, or null
     */
    public MemorySegment reserve(int size, Duration timeout) {
        writer.checkSize(size);
        long deadline = Deadline.after(timeout);
        gate.enter();
        try {
            while (true) {
                MemorySegment sample = writer.tryReserve(size);
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

    /**
     * Hands {@code sample}, as returned by reserve and filled in, to the BPF side. Any thread.
     *
     * @param sample a reserved sample not yet submitted or discarded
     */
    public void submit(MemorySegment sample) {
        commit(sample, false);
    }

    /**
     * Gives back {@code sample} unsent: the BPF side skips it. Any thread.
     *
     * @param sample a reserved sample not yet submitted or discarded
     */
    public void discard(MemorySegment sample) {
        commit(sample, true);
    }

    private void commit(MemorySegment sample, boolean discard) {
        Objects.requireNonNull(sample, "sample");
        gate.checkOpen();
        boolean committed;
        try {
            committed = writer.commit(sample, discard);
        } catch (IllegalStateException unmapped) {
            throw new BufferClosedException(name);     // close() unmapped the ring under us: the sample is gone
        }
        if (!committed) {
            gate.checkOpen();                           // close() discarded it meanwhile: say closed
            throw new IllegalArgumentException("this segment is not a pending sample of " + name + ": it was "
                    + "submitted or discarded already, or is a slice of one; pass the segment reserve returned, once");
        }
    }

    /** At close: discards what is still reserved (see {@link RingWriter#discardPending()}), counted and logged. */
    private void discardPending() {
        long dropped = writer.discardPending();
        if (dropped > 0) {
            droppedAtClose = dropped;
            LOG.warn("{}: closed with {} samples reserved but never submitted; they were discarded so the ring "
                    + "keeps draining (submit or discard every sample before close())", name, dropped);
        }
    }

    /** {@return the largest sample this ring can take: its size less one header, and at most 16 MiB - 1 (a dynptr)} */
    public int maxSampleSize() {
        return writer.maxSampleSize();
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

    /** {@return whether {@link #close()} was called} */
    public boolean isClosed() {
        return gate.isClosed();
    }

    /** {@return the size of the data area in bytes (the map's max_entries)} */
    public long size() {
        return writer.size();
    }

    /**
     * Bytes free for new samples now (each sample takes its size plus an 8-byte header, rounded up to 8).
     *
     * @return the free byte count
     * @throws BufferClosedException after {@link #close()}, also when a close races this call
     */
    public long freeBytes() {
        return gate.query(writer::freeBytes);
    }

    /**
     * The producer position: total bytes reserved so far, headers and padding included.
     *
     * @return the position
     * @throws BufferClosedException after {@link #close()}, also when a close races this call
     */
    public long producerPosition() {
        return gate.query(writer::producerPosition);
    }

    /**
     * The consumer position: total bytes the BPF side has drained.
     *
     * @return the position
     * @throws BufferClosedException after {@link #close()}, also when a close races this call
     */
    public long consumerPosition() {
        return gate.query(writer::consumerPosition);
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

    /** {@return the number of samples submitted so far} */
    public long submitted() {
        return writer.submitted();
    }

    /** {@return the number of samples discarded so far} */
    public long discarded() {
        return writer.discarded();
    }

    @Override
    public String toString() {
        return name + (isClosed() ? " (closed)" : "");
    }
}
