package dev.panbpf.ringbuf;

import dev.panbpf.BpfMap;
import dev.panbpf.MapType;
import dev.panbpf.bindings.sys_epoll_h;
import dev.panbpf.internal.ConsumerGate;
import dev.panbpf.internal.Deadline;
import dev.panbpf.internal.Epoll;
import dev.panbpf.internal.RingClaims;
import dev.panbpf.internal.RingSize;

import java.time.Duration;
import java.util.ArrayList;
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
 * <p>Threading and closing are as for {@link RingBuffer}: one consuming thread at a time, {@link #wakeup()} and
 * {@link #close()} from anywhere.
 */
public final class RingBufferPoller implements AutoCloseable {
    /** DEFAULT_BATCH is the records a ring may deliver per turn unless the builder says otherwise. */
    public static final int DEFAULT_BATCH = 256;

    private final RingReader[] readers;
    private final RecordHandler[] handlers;
    private final int batch;
    /** Turns enough to empty the largest ring when full: the bound of one {@link #consume()}. */
    private final long maxTurns;
    private final Epoll epoll;
    private final ConsumerGate gate;
    private final RingPollLoop loop;
    /** The ring the next turn starts with. */
    private int first;
    /** Whether a handler returned false during the last turn. */
    private boolean handlerStopped;

    private RingBufferPoller(RingReader[] readers, RecordHandler[] handlers, int batch, Epoll epoll,
                             List<RingMapping> mappings, int[] claims) {
        this.readers = readers;
        this.handlers = handlers;
        this.batch = batch;
        long largest = 0;
        for (RingReader r : readers) {
            largest = Math.max(largest, r.size());
        }
        this.maxTurns = (largest / RingLayout.HEADER_SIZE + batch - 1) / batch + 1;
        this.epoll = epoll;
        this.gate = new ConsumerGate("ring buffer poller", () -> release(epoll, mappings, claims, claims.length));
        this.loop = new RingPollLoop(gate, epoll) {
            @Override
            int pass(RecordHandler unused) {
                return turn();
            }

            @Override
            int readiness() {
                int all = RingReader.EMPTY;
                for (RingReader r : readers) {
                    all = combine(all, r.readiness());
                }
                return all;
            }
        };
    }

    /** A builder to which rings are added with their handlers. */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * Delivers what the rings hold, turn after turn, until a turn finds nothing or a handler returns false, and
     * returns how many records it delivered. It never waits, and it ends after at most as many turns as it takes to
     * empty full rings, so producers that keep up cannot hold it forever.
     */
    public int consume() {
        gate.enter();
        try {
            long total = 0;
            int n;
            int turns = 0;
            do {
                n = turn();
                total += n;
            } while (n > 0 && !handlerStopped && ++turns < maxTurns);
            return (int) Math.min(Integer.MAX_VALUE, total);
        } finally {
            gate.exit();
        }
    }

    /**
     * Runs one turn over all rings; if it finds nothing, waits up to {@code timeout} for records and runs a turn
     * then. Returns how many records it delivered: 0 on timeout, {@link #wakeup()} or {@link #close()}.
     */
    public int poll(Duration timeout) {
        long deadline = Deadline.after(timeout);
        gate.enter();
        try {
            return loop.poll(null, deadline);
        } finally {
            gate.exit();
        }
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
    public void wakeup() {
        epoll.wakeup();
    }

    /** Closes the poller: a blocked {@code poll} returns at once; the mappings go when no consumer is inside. */
    @Override
    public void close() {
        for (RingReader r : readers) {
            r.stopForClose();
        }
        if (gate.close()) {
            epoll.wakeup();
        }
    }

    /** Whether {@link #close()} was called. */
    public boolean isClosed() {
        return gate.isClosed();
    }

    /** The number of rings, which are numbered 0.. in the order they were added. */
    public int rings() {
        return readers.length;
    }

    /** Records delivered from ring {@code ring} so far. */
    public long delivered(int ring) {
        return reader(ring).delivered();
    }

    /** Discarded records skipped in ring {@code ring} so far. */
    public long discarded(int ring) {
        return reader(ring).discarded();
    }

    /** Records delivered from all rings so far. */
    public long delivered() {
        long sum = 0;
        for (RingReader r : readers) {
            sum += r.delivered();
        }
        return sum;
    }

    /** Bytes published and not yet consumed in ring {@code ring}. */
    public long availableBytes(int ring) {
        gate.checkOpen();
        RingReader r = reader(ring);
        return gate.query(r::availableBytes);
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
        return loop.busyWaits();
    }

    /** Releases everything, each step whatever the others did; the first failure is thrown at the end. */
    private static void release(Epoll epoll, List<RingMapping> mappings, int[] claims, int claimed) {
        RuntimeException first = null;
        if (epoll != null) {
            try {
                epoll.close();
            } catch (RuntimeException e) {
                first = e;
            }
        }
        for (int i = 0; i < claimed; i++) {
            RingClaims.release(claims[i]);
        }
        for (RingMapping m : mappings) {
            try {
                m.close();
            } catch (RuntimeException e) {
                first = first == null ? e : first;
            }
        }
        if (first != null) {
            throw first;
        }
    }

    /** Builder collects the rings of a {@link RingBufferPoller}; {@link #build()} maps them. */
    public static final class Builder {
        private final List<BpfMap> maps = new ArrayList<>();
        private final List<RecordHandler> handlers = new ArrayList<>();
        private int batch = DEFAULT_BATCH;

        private Builder() { }

        /** Adds a ring buffer map whose records go to {@code handler}; rings are numbered in the order added. */
        public Builder add(BpfMap map, RecordHandler handler) {
            Objects.requireNonNull(map, "map");
            Objects.requireNonNull(handler, "handler");
            maps.add(map);
            handlers.add(handler);
            return this;
        }

        /** Sets how many records one ring may deliver per turn before the next ring is served (default 256). */
        public Builder batch(int records) {
            if (records < 1) {
                throw new IllegalArgumentException("batch " + records + " must be at least 1");
            }
            this.batch = records;
            return this;
        }

        /** Maps every ring and registers it with one epoll; on any failure releases what it had set up. */
        public RingBufferPoller build() {
            if (maps.isEmpty()) {
                throw new IllegalArgumentException("a ring buffer poller needs at least one ring: call add(map, "
                        + "handler)");
            }
            int n = maps.size();
            RingReader[] readers = new RingReader[n];
            List<RingMapping> mappings = new ArrayList<>(n);
            int[] claims = new int[n];
            int claimed = 0;
            Epoll epoll = null;
            try {
                epoll = new Epoll(n);
                for (int i = 0; i < n; i++) {
                    BpfMap map = maps.get(i);
                    if (map.mapType() != MapType.RINGBUF) {
                        throw new IllegalArgumentException(map + " (ring " + i + ") is not a BPF_MAP_TYPE_RINGBUF");
                    }
                    RingSize.check(map.name(), map.maxEntries());
                    String name = "ring buffer '" + map.name() + "' (poller ring " + i + ")";
                    int fd = map.fd();
                    claims[i] = RingClaims.claim(fd, name);
                    claimed++;
                    RingMapping m = RingMapping.forConsumer(fd, map.maxEntries(), name);
                    mappings.add(m);
                    readers[i] = new RingReader(name, m.consumerPage(), m.producerPage(), m.data(), m.size());
                    epoll.add(fd, sys_epoll_h.EPOLLIN(), i);
                }
                return new RingBufferPoller(readers, handlers.toArray(new RecordHandler[0]), batch, epoll,
                        mappings, claims);
            } catch (RuntimeException e) {
                release(epoll, mappings, claims, claimed);
                throw e;
            }
        }
    }
}
