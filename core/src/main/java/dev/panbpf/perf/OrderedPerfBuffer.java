package dev.panbpf.perf;

import dev.panbpf.BpfException;
import dev.panbpf.BpfMap;
import dev.panbpf.BufferClosedException;
import dev.panbpf.EventReader;
import dev.panbpf.event.EventHandler;
import dev.panbpf.event.StructCodec;
import dev.panbpf.internal.BatchDelay;
import dev.panbpf.internal.ConsumerGate;
import dev.panbpf.internal.Deadline;
import dev.panbpf.internal.Decoders;
import dev.panbpf.internal.Epoll;
import dev.panbpf.internal.RecordDecoder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.lang.foreign.MemorySegment;
import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * OrderedPerfBuffer reads a perf buffer and hands its events out as one stream in kernel timestamp order,
 * merging the per-CPU rings (which are each in order) by the CLOCK_MONOTONIC stamp the kernel puts on each
 * sample.
 *
 * <h2>Guarantee</h2>
 * Events are held until it is safe to release them, then released smallest timestamp first. An event with stamp
 * {@code t} is released once every CPU read has shown a stamp {@code >= t}, or once an event with a stamp
 * {@code >= t} was read at least the reorder window {@code W} ago (measured with System.nanoTime from the read),
 * or by {@link #flush}; and when a CPU holds more than {@link #MAX_HELD_BYTES_PER_CPU}, its oldest events go
 * early. Hence:
 * <ul>
 *   <li>every event is delivered exactly once, and the events not flagged late have non-decreasing timestamps,
 *       each no smaller than any event delivered before it;</li>
 *   <li>an event is held at most about {@code W} after it was read (the next poll after its window closes);</li>
 *   <li>an event is late only if, when read, an event with a larger stamp had already been delivered. That
 *       happens only when it reached its ring more than {@code W} after a newer event from another CPU was read
 *       (a producer stalled between taking the time and writing, or this reader fell far behind), or when its
 *       own CPU wrote it after a newer one (an output nested in another). Late events are delivered at once
 *       with {@code late = true} and counted by {@link #late()}; none is dropped.</li>
 * </ul>
 * Events dropped by the kernel because a ring was full never reach the merge; they are counted by
 * {@link #lost()} and reported to {@link PerfOptions#onLost}.
 *
 * <p>It keeps the {@link EventReader} contract: one thread consumes; a handler stops early by returning false
 * (the events behind it stay, in the rings or held, for the next call); {@link #wakeup()} and {@link #close()}
 * may come from any thread and release a blocked poll promptly; after close every poll or flush throws
 * {@link BufferClosedException} while the counters still answer. A handler that closes the reader gets no
 * further event.
 *
 * <p>Payloads are handed out straight from the rings' mappings when they can go at once; only events held
 * past a pass are copied, into per-CPU native space that is reused (it grows with the load, never per event).
 * Either way a payload is read-only and valid only until the handler returns. Events still held at close, and
 * samples still unread in the rings, are dropped, counted in {@link #droppedAtClose()} and logged: call
 * {@link #flush} first to get them.
 */
public final class OrderedPerfBuffer implements EventReader {
    private static final Logger LOG = LoggerFactory.getLogger(OrderedPerfBuffer.class);
    /** DEFAULT_WINDOW is the reorder window used when none is given: 5 ms. */
    public static final Duration DEFAULT_WINDOW = Duration.ofMillis(5);
    /** MAX_HELD_BYTES_PER_CPU is how much payload a CPU may hold before its oldest events are released early. */
    public static final long MAX_HELD_BYTES_PER_CPU = 64L << 20;

    /** Handler receives events in timestamp order; {@code late} marks one that arrived after newer ones left. */
    @FunctionalInterface
    public interface Handler {
        /**
         * Handles one event and says whether to go on. If it throws, the event still counts as delivered, and
         * the exception reaches the caller; the events behind it stay for the next call.
         *
         * @param cpu the CPU whose ring it was written to
         * @param payload the event's bytes, valid only during this call
         * @param timestamp the kernel's CLOCK_MONOTONIC stamp
         * @param late whether a newer event was delivered before it (see the class comment)
         * @return true to take the next event; false to make the call return after this one
         */
        boolean onRecord(int cpu, MemorySegment payload, long timestamp, boolean late);
    }

    private final String what;
    private final PerfCpuSet set;
    private final Epoll epoll;
    private final PerfWait waits;
    private final BatchDelay batch = new BatchDelay();
    private final TimestampMerge merge;
    private final ConsumerGate gate;
    private final PerfPassEvents events;
    private volatile long delivered;
    private volatile long droppedAtClose;

    private OrderedPerfBuffer(BpfMap map, PerfOptions options, long windowNanos) {
        this.what = "ordered perf buffer on " + map;
        this.set = PerfCpuSet.open(map, options.timestamps(true), what);
        this.epoll = set.epoll();
        this.waits = new PerfWait(epoll, set.size());  // (every pass reads every ring: pending marks unused)
        PerfCursor[] rings = new PerfCursor[set.size()];
        for (int i = 0; i < rings.length; i++) {
            rings[i] = set.ring(i);
        }
        this.merge = new TimestampMerge(rings, windowNanos, MAX_HELD_BYTES_PER_CPU);
        this.gate = new ConsumerGate(what, this::release);
        this.events = new PerfPassEvents("OrderedPerfBuffer", map.name(), set, this::delivered);
    }

    /**
     * Opens a perf buffer on {@code map} as {@link PerfBuffer#of(BpfMap, PerfOptions)} does, with timestamps,
     * ordered over {@link #DEFAULT_WINDOW}.
     *
     * @param map the PERF_EVENT_ARRAY to read
     * @param options as for {@link PerfBuffer#of(BpfMap, PerfOptions)}
     * @return the open reader
     * @throws BpfException as {@link PerfBuffer#of(BpfMap, PerfOptions)} does
     */
    public static OrderedPerfBuffer of(BpfMap map, PerfOptions options) {
        return of(map, options, DEFAULT_WINDOW);
    }

    /**
     * Opens a perf buffer on {@code map} as {@link PerfBuffer#of(BpfMap, PerfOptions)} does (timestamps are
     * switched on whatever the options say) and orders its events, holding each at most {@code reorderWindow}
     * after it was read.
     *
     * @param map the PERF_EVENT_ARRAY to read
     * @param options as for {@link PerfBuffer#of(BpfMap, PerfOptions)}
     * @param reorderWindow how long an event may wait for older ones from other CPUs; a century or more holds
     *        events until the other CPUs' stamps or {@link #flush} release them
     * @return the open reader
     * @throws IllegalArgumentException if {@code reorderWindow} is negative
     * @throws BpfException as {@link PerfBuffer#of(BpfMap, PerfOptions)} does
     */
    public static OrderedPerfBuffer of(BpfMap map, PerfOptions options, Duration reorderWindow) {
        return new OrderedPerfBuffer(map, options, Deadline.nanos(reorderWindow, "reorderWindow"));
    }

    /**
     * Reads every CPU's ring and releases what the ordering rule allows, waiting up to {@code timeout} for
     * something to release (new events, or held ones whose window closes).
     *
     * @param handler receives the events in timestamp order
     * @param timeout how long to wait at most; {@code Duration.ZERO} does not wait, and a timeout of a century or
     *        more waits without limit
     * @return the number of events handed to {@code handler}, late ones included; 0 on timeout, on
     *         {@link #wakeup()}, or when another thread closed the reader meanwhile
     * @throws BufferClosedException if the reader was closed before the call
     * @throws IllegalArgumentException if {@code timeout} is negative
     * @throws BpfException for a ring whose records cannot be, or a sample contradicting the payload options
     */
    public int poll(Handler handler, Duration timeout) {
        Objects.requireNonNull(handler, "handler");
        long deadline = Deadline.after(timeout);
        gate.enter();
        try {
            boolean woken = batch.await(deadline, epoll);  // woken in the delay: one pass, no wait
            if (woken && gate.isClosed()) {
                return 0;
            }
            while (true) {
                int n = pass(handler, false);
                if (n > 0 || woken || Deadline.passed(deadline)) {
                    batch.ended(n);
                    return n;
                }
                woken = waits.await(earliest(deadline, merge.nextDeadline())) == PerfWait.WOKEN;
                if (gate.isClosed()) {
                    return 0;  // closed by another thread while we waited: deliver nothing more
                }
            }
        } finally {
            gate.exit();
        }
    }

    /** The earlier of two nanoTime instants, either of which may be {@link Deadline#NEVER}. */
    private static long earliest(long a, long b) {
        if (a == Deadline.NEVER || b == Deadline.NEVER) {
            return a == Deadline.NEVER ? b : a;
        }
        return b - a < 0 ? b : a;
    }

    /**
     * Reads every ring and releases every held event in timestamp order, window or not (until the handler
     * returns false).
     *
     * @param handler receives the events in timestamp order
     * @return the number of events handed to {@code handler}
     * @throws BufferClosedException if the reader was closed
     * @throws BpfException for a ring whose records cannot be, or a sample contradicting the payload options
     */
    public int flush(Handler handler) {
        Objects.requireNonNull(handler, "handler");
        gate.enter();
        try {
            return pass(handler, true);
        } finally {
            gate.exit();
        }
    }

    /**
     * Like {@link #poll(Handler, Duration)}, decoding each event into a Java record with {@code codec}, verified
     * against the program's struct first ({@link StructCodec#verify}); an unverified codec is refused with an
     * IllegalStateException.
     *
     * @param codec the verified codec of the program's struct
     * @param handler receives each decoded record in timestamp order, and returns false to stop
     * @param timeout how long to wait at most
     * @param <R> the record type
     * @return the number of events handled
     */
    public <R extends Record> int poll(StructCodec<R> codec, EventHandler<? super R> handler, Duration timeout) {
        return poll(typed(codec, handler), timeout);
    }

    /**
     * Like {@link #flush(Handler)}, decoding each event into a Java record with {@code codec}.
     *
     * @param codec the verified codec of the program's struct
     * @param handler receives each decoded record in timestamp order, and returns false to stop
     * @param <R> the record type
     * @return the number of events handled
     */
    public <R extends Record> int flush(StructCodec<R> codec, EventHandler<? super R> handler) {
        return flush(typed(codec, handler));
    }

    /** The raw handler of a typed view, decoding at a call site of its own as the other typed views do. */
    private static <R extends Record> Handler typed(StructCodec<R> codec, EventHandler<? super R> handler) {
        Objects.requireNonNull(handler, "handler");
        codec.requireVerified("typed ordered perf buffer view");
        RecordDecoder decoder = Decoders.of(codec);
        @SuppressWarnings("unchecked")
        Handler typed = (cpu, payload, timestamp, late) -> handler.onEvent((R) decoder.decode(payload, 0));
        return typed;
    }

    /** One merge pass: releases until the rule holds the rest, or the handler stops or closes the reader. */
    private int pass(Handler handler, boolean flush) {
        final TimestampMerge merge = this.merge;
        int n = 0;
        events.begin();
        try {
            merge.begin(System.nanoTime(), flush);
            while (merge.next()) {
                n++;
                if (!handler.onRecord(merge.cpu(), merge.payload(), merge.time(), merge.isLate())
                        || gate.isClosedPlain()) {
                    break;
                }
            }
        } finally {
            merge.end();
            if (n != 0) {
                delivered += n;
            }
            events.end();
        }
        return n;
    }

    /**
     * Releases a thread blocked in {@link #poll}, which returns what it has (maybe 0), or makes the next poll
     * that would wait return without waiting; safe from any thread, and a no-op once closed.
     */
    @Override
    public void wakeup() {
        epoll.wakeup();
    }

    /** {@inheritDoc} */
    @Override
    public void batchDelay(Duration delay) {
        batch.set(delay, toString());
    }

    @Override
    public Duration batchDelay() {
        return batch.get();
    }

    /**
     * The CPUs read.
     *
     * @return the CPUs, ascending
     */
    public List<Integer> cpus() {
        return set.cpus();
    }

    /** Events handed to handlers so far, late ones included (also after close). */
    @Override
    public long delivered() {
        return delivered;
    }

    /**
     * Events delivered late (flagged), see the class comment. Kept by the consuming thread: read from another
     * thread it may lag a little.
     *
     * @return the count
     */
    public long late() {
        return merge.late();
    }

    /**
     * Events read but not yet released. Kept by the consuming thread, as {@link #late()}.
     *
     * @return the count
     */
    public long held() {
        return merge.held();
    }

    /** {@return panbpf_perf_event_output failures since this opened (0 if unused); a full ring counts in lost()} */
    public long producerDrops() {
        return set.producerDrops();
    }

    /** Events the kernel dropped on all CPUs because a ring was full (also after close). */
    @Override
    public long lost() {
        long n = 0;
        for (int i = 0; i < set.size(); i++) {
            n += set.ring(i).lost();
        }
        return n;
    }

    /**
     * Events the kernel dropped on one CPU.
     *
     * @param cpu the CPU, one of {@link #cpus()}
     * @return the count
     * @throws IllegalArgumentException if this reader does not read {@code cpu}
     */
    public long lost(int cpu) {
        return set.ring(set.indexOf(cpu, what)).lost();
    }

    /**
     * Events that were held for ordering, or still unread in the rings, when the reader closed, and so never
     * delivered. 0 before close, and until a consumer still inside has left.
     */
    @Override
    public long droppedAtClose() {
        return droppedAtClose;
    }

    @Override
    public boolean isClosed() {
        return gate.isClosed();
    }

    /**
     * Removes the entries from the map, disables the events and releases the rings; held events are dropped and
     * counted ({@link #droppedAtClose()}). Safe from another thread while poll waits. Idempotent.
     */
    @Override
    public void close() {
        if (gate.close()) {
            epoll.wakeup();
        }
    }

    /** Runs once the consumer is out: closes the CPU set (which counts the samples left in the rings). */
    private void release() {
        long held = merge.held();
        set.close();
        long unread = set.droppedAtClose();
        droppedAtClose = held + unread;
        if (held + unread > 0) {
            LOG.warn("{}: closed with {} events held for ordering and {} unread in the rings; they were dropped "
                    + "(call flush() before close() to receive them)", what, held, unread);
        }
    }

    @Override
    public String toString() {
        return what + " (CPUs " + cpus() + (isClosed() ? ", closed)" : ")");
    }
}
