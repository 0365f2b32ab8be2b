package dev.panbpf.perf;

import dev.panbpf.BpfException;
import dev.panbpf.BpfMap;
import dev.panbpf.BufferClosedException;
import dev.panbpf.internal.ConsumerGate;
import dev.panbpf.internal.Deadline;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.lang.foreign.MemorySegment;
import java.time.Duration;
import java.util.List;

/**
 * OrderedPerfBuffer reads a perf buffer and hands its events out as one stream in kernel timestamp order,
 * merging the per-CPU rings (which are each in order) by the CLOCK_MONOTONIC stamp the kernel puts on each
 * sample.
 *
 * <h2>Guarantee</h2>
 * Events are held until it is safe to release them, then released smallest timestamp first. An event with stamp
 * {@code t} is released once every CPU read has shown a stamp {@code >= t}, or once an event with a stamp
 * {@code >= t} was read at least the reorder window {@code W} ago (measured with System.nanoTime from the read),
 * or by {@link #flush}; and when a CPU holds more than its memory limit, its oldest events go early. Hence:
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
 * {@link #lost()} and reported to {@link PerfBuffer.Options#onLost}.
 *
 * <p>Counters are kept by the consuming thread; read from another thread they may lag a little.
 *
 * <p>Payloads are handed out straight from the rings' mappings when they can go at once; only events held
 * past a poll are copied, into per-CPU reusable space (no allocation per event once warm). Either way a payload
 * is valid only until the handler returns. One thread consumes; {@link #wakeup()} and {@link #close()} may come
 * from any thread. A poll blocked when another thread closes returns; any later poll or flush throws
 * {@link BufferClosedException}; the counters may still be read. A handler that closes the buffer gets no
 * further event. Events still held at close, and samples still unread in the rings, are dropped, counted in
 * {@link #droppedAtClose()} and logged: call {@link #flush} first to get them.
 */
public final class OrderedPerfBuffer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(OrderedPerfBuffer.class);
    /** DEFAULT_WINDOW is the reorder window used when none is given: 5 ms. */
    public static final Duration DEFAULT_WINDOW = Duration.ofMillis(5);
    /** MAX_HELD_BYTES_PER_CPU is how much payload a CPU may hold before its oldest events are released early. */
    public static final long MAX_HELD_BYTES_PER_CPU = 64L << 20;

    /** Handler receives events in timestamp order; {@code late} marks one that arrived after newer ones left. */
    @FunctionalInterface
    public interface Handler {
        /**
         * Handles one event.
         *
         * @param cpu the CPU whose ring it was written to
         * @param payload the event's bytes, valid only during this call
         * @param timestamp the kernel's CLOCK_MONOTONIC stamp
         * @param late whether a newer event was delivered before it (see the class comment)
         */
        void onRecord(int cpu, MemorySegment payload, long timestamp, boolean late);
    }

    private final PerfBuffer buffer;
    private final TimestampMerge merge;
    private final ConsumerGate gate;
    private volatile boolean wakeRequested;
    private volatile long droppedAtClose;

    private OrderedPerfBuffer(PerfBuffer buffer, long windowNanos) {
        this.buffer = buffer;
        // The merge reads the rings itself; this gate keeps them mapped until it is out, then closes the buffer.
        this.gate = new ConsumerGate(buffer.toString(), this::release);
        this.merge = new TimestampMerge(buffer.rings(), buffer.lostHandler(), windowNanos, MAX_HELD_BYTES_PER_CPU,
                gate);
    }

    /** Runs once the consumer is out: closes the perf buffer, then says what the close dropped. */
    private void release() {
        long held = merge.held();
        buffer.close();  // counts the samples left in the rings
        long unread = buffer.droppedAtClose();
        droppedAtClose = held + unread;
        if (held + unread > 0) {
            LOG.warn("{}: closed with {} events held for ordering and {} unread in the rings; they were dropped "
                    + "(call flush() before close() to receive them)", this, held, unread);
        }
    }

    /**
     * Opens a perf buffer on {@code map} as {@link PerfBuffer#of} does, with timestamps, ordered over
     * {@link #DEFAULT_WINDOW}.
     *
     * @param map the PERF_EVENT_ARRAY to read
     * @param options as for {@link PerfBuffer#of(BpfMap, PerfBuffer.Options)}
     * @return the open reader
     * @throws BpfException as {@link PerfBuffer#of(BpfMap, PerfBuffer.Options)} does
     */
    public static OrderedPerfBuffer of(BpfMap map, PerfBuffer.Options options) {
        return of(map, options, DEFAULT_WINDOW);
    }

    /**
     * Opens a perf buffer on {@code map} as {@link PerfBuffer#of} does (timestamps are switched on whatever the
     * options say) and orders its events, holding each at most {@code reorderWindow} after it was read.
     *
     * @param map the PERF_EVENT_ARRAY to read
     * @param options as for {@link PerfBuffer#of(BpfMap, PerfBuffer.Options)}
     * @param reorderWindow how long an event may wait for older ones from other CPUs; a century or more holds
     *        events until the other CPUs' stamps or {@link #flush} release them
     * @return the open reader
     * @throws IllegalArgumentException if {@code reorderWindow} is negative
     * @throws BpfException as {@link PerfBuffer#of(BpfMap, PerfBuffer.Options)} does
     */
    public static OrderedPerfBuffer of(BpfMap map, PerfBuffer.Options options, Duration reorderWindow) {
        long windowNanos = Deadline.nanos(reorderWindow, "reorderWindow");
        PerfBuffer buffer = PerfBuffer.open(map, options.timestamps(true), "ordered perf buffer on " + map, false);
        try {
            return new OrderedPerfBuffer(buffer, windowNanos);
        } catch (RuntimeException | Error e) {
            buffer.close();
            throw e;
        }
    }

    /**
     * Reads every CPU's ring and releases what the ordering rule allows, waiting up to {@code timeout} for
     * something to release (new events, or held ones whose window closes). If the handler throws, the events
     * before it are delivered, it counts as delivered, and the rest stay held or in the rings for the next call.
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
        long deadline = Deadline.after(timeout);
        gate.enter();
        try {
            int total = 0;
            while (true) {
                // One pass reads every ring to the head it finds before deciding what goes, so a window that
                // closed while nobody polled lets no event out ahead of an older one still in another CPU's ring.
                total += merge.release(System.nanoTime(), false, handler);
                if (total > 0 || gate.isClosed() || wakeRequested || Deadline.passed(deadline)) {
                    wakeRequested = false;
                    return total;
                }
                buffer.await(earliest(deadline, merge.nextDeadline()));
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
     * Reads every ring and releases every held event in timestamp order, window or not.
     *
     * @param handler receives the events in timestamp order
     * @return the number of events handed to {@code handler}
     * @throws BufferClosedException if the reader was closed
     * @throws BpfException for a ring whose records cannot be, or a sample contradicting the payload options
     */
    public int flush(Handler handler) {
        gate.enter();
        try {
            return merge.release(System.nanoTime(), true, handler);
        } finally {
            gate.exit();
        }
    }

    /**
     * Releases a thread blocked in {@link #poll}, which returns what it has (maybe 0); safe from any thread, and
     * a no-op once closed.
     */
    public void wakeup() {
        wakeRequested = true;
        buffer.wakeup();
    }

    /**
     * The CPUs read.
     *
     * @return the CPUs, ascending
     */
    public List<Integer> cpus() {
        return buffer.cpus();
    }

    /**
     * Events handed to handlers so far, late ones included (also after close).
     *
     * @return the count
     */
    public long delivered() {
        return merge.released();
    }

    /**
     * Events delivered late (flagged), see the class comment.
     *
     * @return the count
     */
    public long late() {
        return merge.late();
    }

    /**
     * Events read but not yet released.
     *
     * @return the count
     */
    public long held() {
        return merge.held();
    }

    /**
     * Events the kernel dropped on all CPUs because a ring was full (also after close).
     *
     * @return the count
     */
    public long lost() {
        return buffer.lost();
    }

    /**
     * Events the kernel dropped on one CPU.
     *
     * @param cpu the CPU, one of {@link #cpus()}
     * @return the count
     * @throws IllegalArgumentException if this reader does not read {@code cpu}
     */
    public long lost(int cpu) {
        return buffer.lost(cpu);
    }

    /**
     * Events that were held for ordering, or still unread in the rings, when the reader closed, and so never
     * delivered.
     *
     * @return the count; 0 before close, and until a consumer still inside has left
     */
    public long droppedAtClose() {
        return droppedAtClose;
    }

    /**
     * Whether {@link #close()} was called.
     *
     * @return true once closed
     */
    public boolean isClosed() {
        return gate.isClosed();
    }

    /**
     * Closes the underlying perf buffer; held events are dropped and counted ({@link #droppedAtClose()}). Safe
     * from another thread while poll waits.
     */
    @Override
    public void close() {
        if (gate.close()) {
            buffer.wakeup();
        }
    }

    @Override
    public String toString() {
        return buffer.toString();
    }
}
