package dev.panbpf.ringbuf;

import dev.panbpf.BpfMap;
import dev.panbpf.bindings.sys_epoll_h;
import dev.panbpf.internal.BatchDelay;
import dev.panbpf.internal.ConsumerGate;
import dev.panbpf.internal.Deadline;
import dev.panbpf.internal.Epoll;
import dev.panbpf.internal.MapClaims;
import dev.panbpf.internal.RingSize;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.LongSupplier;

/**
 * RingSet is what a consumer of kernel ring buffers owns, whether it reads one ring or several: a claim, a mapping
 * and a {@link RingReader} per ring, one epoll on which every ring is registered, the gate that admits one
 * consumer at a time, and the poll loop. Opening, rolling back a failed open, waking, closing and releasing are
 * here once; the public readers add only how records are handed out.
 *
 * <p>Thread-safety is the gate's: {@link #enter()}/{@link #exit()} around every consume, {@link #wakeup()},
 * {@link #close()} and the queries from any thread.
 */
final class RingSet {
    private final RingReader[] readers;
    private final Epoll epoll;
    private final ConsumerGate gate;
    private final RingPollLoop loop;
    private final RingEvents events;

    private RingSet(String what, RingReader[] readers, Epoll epoll, List<RingMapping> mappings, int[] claims,
            RingEvents events) {
        this.readers = readers;
        this.epoll = epoll;
        this.gate = new ConsumerGate(what, () -> release(epoll, mappings, claims, claims.length));
        this.loop = new RingPollLoop(readers, gate, epoll);
        this.events = events;
    }

    /**
     * Claims and maps each of {@code maps} (BPF_MAP_TYPE_RINGBUF; the caller has checked the type, with its own
     * message) and registers it with one epoll, ring {@code i} tagged {@code i} and named {@code names.get(i)} in
     * messages; {@code what} names the whole in the gate's messages, {@code reader} (the public class) in JFR
     * events. On any failure releases what it had set up.
     */
    static RingSet open(String what, List<BpfMap> maps, List<String> names, String reader) {
        int n = maps.size();
        for (BpfMap map : maps) {
            RingSize.check(map.name(), map.maxEntries());     // before any syscall: nothing to roll back
        }
        RingReader[] readers = new RingReader[n];
        List<RingMapping> mappings = new ArrayList<>(n);
        int[] claims = new int[n];
        String[] mapNames = new String[n];
        int claimed = 0;
        Epoll epoll = null;
        try {
            epoll = new Epoll(n);
            for (int i = 0; i < n; i++) {
                BpfMap map = maps.get(i);
                String name = names.get(i);
                mapNames[i] = map.name();
                int fd = map.fd();
                claims[i] = MapClaims.RINGS.claim(fd, name);
                claimed++;
                RingMapping m = RingMapping.forConsumer(fd, map.maxEntries(), name);
                mappings.add(m);
                readers[i] = new RingReader(name, m.consumerPage(), m.producerPage(), m.data(), m.size());
                epoll.add(fd, sys_epoll_h.EPOLLIN(), i);
            }
            return new RingSet(what, readers, epoll, mappings, claims, new RingEvents(reader, mapNames, readers));
        } catch (RuntimeException e) {
            release(epoll, mappings, claims, claimed);
            throw e;
        }
    }

    /** The number of rings. */
    int rings() {
        return readers.length;
    }

    /** The reader of ring {@code i}, 0 &lt;= i &lt; {@link #rings()}. */
    RingReader reader(int i) {
        return readers[i];
    }

    /** Enters as the one consumer; throws if closed or if a consumer is inside (see {@link ConsumerGate}). */
    void enter() {
        gate.enter();
    }

    /** Leaves; releases everything if a close came meanwhile. */
    void exit() {
        gate.exit();
    }

    /**
     * Polls: runs {@code pass} with {@code handler}, waiting up to {@code timeout} while it finds nothing. The
     * timeout is checked before the gate, so a negative one is refused whatever the state.
     */
    int poll(RingPollLoop.Pass pass, RecordHandler handler, Duration timeout) {
        long deadline = Deadline.after(timeout);
        gate.enter();
        try {
            return loop.poll(events.observe(pass), handler, deadline);
        } finally {
            gate.exit();
        }
    }

    /** The poll loop's batch delay. */
    BatchDelay batch() {
        return loop.batch();
    }

    /** Runs one {@code pass} of a consume, reported to JFR like a poll's; the caller has entered the gate. */
    int run(RingPollLoop.Pass pass, RecordHandler handler) {
        events.begin();
        try {
            return pass.run(handler);
        } finally {
            events.end();
        }
    }

    /** Drains ring {@code i} up to {@code limit} records, reported to JFR; the caller has entered the gate. */
    int drain(int i, RecordHandler handler, int limit) {
        events.begin();
        try {
            return readers[i].drain(handler, limit);
        } finally {
            events.end();
        }
    }

    /** Throws {@link dev.panbpf.BufferClosedException} if closed. */
    void checkOpen() {
        gate.checkOpen();
    }

    /** Runs a query of the mapped pages from any thread; closed, or a close racing it, throws the closed error. */
    long query(LongSupplier read) {
        return gate.query(read);
    }

    /** Makes a poll waiting now return at once, or the next one that would wait. Any thread. */
    void wakeup() {
        epoll.wakeup();
    }

    /**
     * Closes: a pass in progress stops after its current record, a poll blocked in epoll returns, and everything is
     * released now or, if a consumer is inside, when it leaves. Idempotent.
     */
    void close() {
        for (RingReader r : readers) {
            r.stopForClose();
        }
        if (gate.close()) {
            epoll.wakeup();
        }
    }

    /** Whether {@link #close()} was called. */
    boolean isClosed() {
        return gate.isClosed();
    }

    /** How many times a poll slept because a head record was reserved but not committed. */
    long busyWaits() {
        return loop.busyWaits();
    }

    /** Records handed to handlers from all rings. */
    long delivered() {
        long sum = 0;
        for (RingReader r : readers) {
            sum += r.delivered();
        }
        return sum;
    }

    /**
     * Releases the epoll, the first {@code claimed} claims and the mappings, each step whatever the others did
     * (a mapping waits for a native call holding a record); the first failure is thrown at the end.
     */
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
            MapClaims.RINGS.release(claims[i]);
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
}
