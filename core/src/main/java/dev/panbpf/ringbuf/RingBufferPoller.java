package dev.panbpf.ringbuf;

import dev.panbpf.BpfMap;
import dev.panbpf.BufferClosedException;
import dev.panbpf.EventReader;
import dev.panbpf.MapType;
import dev.panbpf.internal.ProducerDrops;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * RingBufferPoller reads several {@code BPF_MAP_TYPE_RINGBUF} maps from one thread, each with its own handler,
 * waiting on all of them with one epoll.
 *
 * <pre>{@code
 * try (RingBufferPoller poller = RingBufferPoller.builder()
 *         .add(object.map("exec_events"), this::onExec)
 *         .add(object.map("net_events"), this::onPacket)
 *         .build()) {
 *     while (running) {
 *         poller.poll(Duration.ofMillis(100));
 *     }
 * }
 * }</pre>
 *
 * <p>Reading is fair: rings are served in turns, round robin, each taking at most {@link Builder#batch(int)}
 * records per turn, and each turn starts one ring further along, so a ring that never runs dry delays the others
 * by one batch at most. A handler that returns false ends the current call after its record; the other rings are
 * served first in the next one.
 *
 * <p>One thread at a time may consume (call {@link #consume()} or {@link #poll}); a second concurrent consumer is
 * refused with an exception, and so is a second reader of any of its maps in this process. {@link #wakeup()},
 * {@link #close()} and the queries are safe from any thread; {@code close()} from another thread releases a
 * blocked {@code poll} at once and unmaps the rings when that consumer has left. The maps stay open.
 */
public final class RingBufferPoller implements EventReader {
    /** DEFAULT_BATCH is the records a ring may deliver per turn unless the builder says otherwise. */
    public static final int DEFAULT_BATCH = 256;

    private final RingSet rings;
    private final RingReader[] readers;
    private final RecordHandler[] handlers;
    private final ProducerDrops[] drops;
    private final int batch;
    /** Turns enough to empty the largest ring when full: the bound of one {@link #consume()}. */
    private final long maxTurns;
    /** The pass of a poll: one turn, with the handlers given at build time. */
    private final RingPollLoop.Pass turn = unused -> turn();
    /** The ring the next turn starts with. */
    private int first;
    /** Whether a handler returned false during the last turn. */
    private boolean handlerStopped;

    private RingBufferPoller(RingSet rings, RecordHandler[] handlers, ProducerDrops[] drops, int batch) {
        this.rings = rings;
        this.drops = drops;
        this.readers = new RingReader[rings.rings()];
        long largest = 0;
        for (int i = 0; i < readers.length; i++) {
            readers[i] = rings.reader(i);
            largest = Math.max(largest, readers[i].size());
        }
        this.handlers = handlers;
        this.batch = batch;
        this.maxTurns = (largest / RingLayout.HEADER_SIZE + batch - 1) / batch + 1;
    }

    /** {@return a builder to which rings are added with their handlers} */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * Delivers what the rings hold, turn after turn, until a turn finds nothing or a handler returns false, and
     * returns how many records it delivered. It never waits, and it ends after at most as many turns as it takes to
     * empty full rings, so producers that keep up cannot hold it forever.
     *
     * @return the number of records delivered
     */
    public int consume() {
        rings.enter();
        try {
            long total = 0;
            int n;
            int turns = 0;
            do {
                n = rings.run(turn, null);
                total += n;
            } while (n > 0 && !handlerStopped && ++turns < maxTurns);
            return (int) Math.min(Integer.MAX_VALUE, total);
        } finally {
            rings.exit();
        }
    }

    /**
     * Runs one turn over all rings; if it finds nothing, waits up to {@code timeout} for records and runs a turn
     * then. Returns how many records it delivered: 0 on timeout, {@link #wakeup()} or {@link #close()}. A handler
     * that returns false ends the call after its record, as in {@link #consume()}.
     *
     * @param timeout the longest wait
     * @return the number of records delivered
     */
    public int poll(Duration timeout) {
        return rings.poll(turn, null, timeout);
    }

    /**
     * One round robin over the rings, each delivering at most one batch, starting one ring further along than the
     * last turn did; a handler that says stop ends the turn, and the next turn starts with the ring after it.
     */
    private int turn() {
        RingReader[] readers = this.readers;
        int count = readers.length;
        int i = first;
        first = next(i);
        handlerStopped = false;
        int total = 0;
        for (int k = 0; k < count; k++, i = next(i)) {
            RingReader reader = readers[i];
            total += reader.drain(handlers[i], batch);
            if (reader.stopped()) {
                handlerStopped = true;
                first = next(i);
                break;
            }
        }
        return total;
    }

    private int next(int ring) {
        return ring + 1 == readers.length ? 0 : ring + 1;
    }

    /** Makes a {@code poll} waiting now return 0 at once (or the next one that would wait). Any thread. */
    @Override
    public void wakeup() {
        rings.wakeup();
    }

    @Override
    public void batchDelay(Duration delay) {
        rings.batch().set(delay, toString());
    }

    @Override
    public Duration batchDelay() {
        return rings.batch().get();
    }

    /** Closes the poller: a blocked {@code poll} returns at once; the mappings go when no consumer is inside. */
    @Override
    public void close() {
        rings.close();
        Arrays.stream(drops).forEach(ProducerDrops::close);
    }

    /** Whether {@link #close()} was called. */
    @Override
    public boolean isClosed() {
        return rings.isClosed();
    }

    /** {@return the number of rings, which are numbered 0.. in the order they were added} */
    public int rings() {
        return readers.length;
    }

    /**
     * Records delivered from ring {@code ring} so far.
     *
     * @param ring the ring's number
     * @return the count of delivered records
     */
    public long delivered(int ring) {
        return reader(ring).delivered();
    }

    /**
     * Discarded records skipped in ring {@code ring} so far.
     *
     * @param ring the ring's number
     * @return the count of skipped discarded records
     */
    public long discarded(int ring) {
        return reader(ring).discarded();
    }

    /**
     * Records the BPF programs failed to put into ring {@code ring} since the poller was built, as the
     * {@code panbpf_ringbuf_*} wrappers of panbpf.bpf.h count them ({@link RingBuffer#producerDrops()} says more);
     * 0 when the ring's object has no {@code panbpf_drops} map.
     *
     * @param ring the ring's number
     * @return the count, all CPUs together
     * @throws dev.panbpf.BpfException if the ring's object was closed
     */
    public long producerDrops(int ring) {
        reader(ring);
        return drops[ring].sinceOpen();
    }

    /**
     * {@link #producerDrops(int)} of all rings together.
     *
     * @return the count
     * @throws dev.panbpf.BpfException if a ring's object was closed
     */
    public long producerDrops() {
        long n = 0;
        for (ProducerDrops d : drops) {
            n += d.sinceOpen();
        }
        return n;
    }

    /** Records delivered from all rings so far. */
    @Override
    public long delivered() {
        return rings.delivered();
    }

    /**
     * Always 0: ring buffers have no lost-event count. A BPF program learns that a ring is full when its
     * {@code bpf_ringbuf_reserve} fails, and only it can count that: see {@link #producerDrops(int)}.
     *
     * @return 0
     */
    @Override
    public long lost() {
        return 0;
    }

    /**
     * Always 0: records still in the rings when the poller closes stay in the maps, where the next reader of each
     * map finds them; nothing the poller held is lost.
     *
     * @return 0
     */
    @Override
    public long droppedAtClose() {
        return 0;
    }

    /**
     * Bytes published and not yet consumed in ring {@code ring}.
     *
     * @param ring the ring's number
     * @return the byte count
     * @throws BufferClosedException after {@link #close()} (whatever the number), also when a close races this call
     */
    public long availableBytes(int ring) {
        rings.checkOpen();
        RingReader r = reader(ring);
        return rings.query(r::availableBytes);
    }

    private RingReader reader(int ring) {
        if (ring < 0 || ring >= readers.length) {
            throw new IllegalArgumentException("no ring " + ring + " in this poller: rings are numbered 0.."
                    + (readers.length - 1) + " in the order they were added");
        }
        return readers[ring];
    }

    /**
     * How many times a {@code poll} slept briefly because a ring's head record was reserved but not committed.
     *
     * @return the number of such sleeps since the poller was built
     */
    public long busyWaits() {
        return rings.busyWaits();
    }

    /** Builder collects the rings of a {@link RingBufferPoller}; {@link #build()} maps them. */
    public static final class Builder {
        private final List<BpfMap> maps = new ArrayList<>();
        private final List<RecordHandler> handlers = new ArrayList<>();
        private int batch = DEFAULT_BATCH;

        private Builder() { }

        /**
         * Adds a ring buffer map whose records go to {@code handler}; rings are numbered in the order added.
         *
         * @param map a ring buffer map
         * @param handler receives the ring's records
         * @return this builder
         */
        public Builder add(BpfMap map, RecordHandler handler) {
            Objects.requireNonNull(map, "map");
            Objects.requireNonNull(handler, "handler");
            maps.add(map);
            handlers.add(handler);
            return this;
        }

        /**
         * Sets how many records one ring may deliver per turn before the next ring is served (default 256).
         *
         * @param records the per-ring limit per turn, at least 1
         * @return this builder
         */
        public Builder batch(int records) {
            if (records < 1) {
                throw new IllegalArgumentException("batch " + records + " must be at least 1");
            }
            this.batch = records;
            return this;
        }

        /**
         * Maps every ring and registers it with one epoll; on any failure releases what it had set up.
         *
         * @return the poller, owning the mapped rings
         */
        public RingBufferPoller build() {
            if (maps.isEmpty()) {
                throw new IllegalArgumentException("a ring buffer poller needs at least one ring: call add(map, "
                        + "handler)");
            }
            List<String> names = new ArrayList<>(maps.size());
            ProducerDrops[] drops = new ProducerDrops[maps.size()];   // before the mappings: they hold nothing
            for (int i = 0; i < maps.size(); i++) {
                BpfMap map = maps.get(i);
                if (map.mapType() != MapType.RINGBUF) {
                    throw new IllegalArgumentException(map + " (ring " + i + ") is not a BPF_MAP_TYPE_RINGBUF");
                }
                names.add("ring buffer '" + map.name() + "' (poller ring " + i + ")");
            }
            for (int i = 0; i < maps.size(); i++) {
                drops[i] = ProducerDrops.of(maps.get(i));   // after every check: only their JFR watches to end
            }
            try {
                return new RingBufferPoller(RingSet.open("ring buffer poller", maps, names, "RingBufferPoller"),
                        handlers.toArray(new RecordHandler[0]), drops, batch);
            } catch (RuntimeException e) {
                Arrays.stream(drops).forEach(ProducerDrops::close);
                throw e;
            }
        }
    }
}
