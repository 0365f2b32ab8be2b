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
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * PerfBuffer reads a BPF_MAP_TYPE_PERF_EVENT_ARRAY: one perf event and one mapped ring per CPU, filled by
 * {@code bpf_perf_event_output}. Records are parsed in Java straight from the mappings; events the kernel had to
 * drop because a ring was full are counted per CPU and reported to {@link PerfOptions#onLost}.
 *
 * <pre>{@code
 * try (PerfBuffer perf = PerfBuffer.of(object.map("events"), PerfOptions.defaults().bytesPerCpu(256 << 10))) {
 *     while (running) {
 *         perf.poll((cpu, payload, time) -> { handle(cpu, payload); return true; }, Duration.ofMillis(100));
 *     }
 * }
 * }</pre>
 *
 * <p>It keeps the {@link EventReader} contract: one thread consumes at a time, a handler stops early by returning
 * false, {@link #wakeup()} and {@link #close()} may come from any thread and release a blocked {@code poll}
 * promptly, and after close every poll or consume throws {@link BufferClosedException} while the counters still
 * answer. A handler that closes the buffer gets no further record: the rest stays unread and is counted in
 * {@link #droppedAtClose()}.
 *
 * <p>Only one PerfBuffer (or {@link OrderedPerfBuffer}) may read a given map in this process at a time: each
 * stores its events in the map at key = CPU, so a second one would take the first one's place. Opening a second
 * is refused; the map is told apart by its kernel id, so another fd of the same map is refused too.
 *
 * <p>Payload segments are read-only slices of the kernel's mapping (or of a per-CPU scratch copy for records that
 * wrap the ring's end): they are valid only until the handler returns. Copy what you keep. The kernel places a
 * payload 4 bytes past an 8-byte boundary, so read its fields with the {@code *_UNALIGNED} value layouts.
 *
 * <p>What a payload holds. The kernel does not record how many bytes the program passed: it stores a raw size
 * {@code R = roundUp(n + 4, 8) - 4} for {@code n} bytes sent and leaves the {@code R - n} (at most 7) bytes after
 * them as they were, stale. By default the handler gets all {@code R} bytes, so the first {@code n} are exactly
 * the program's and up to 7 trailing bytes are not. With {@link PerfOptions#payloadSize} or
 * {@link PerfOptions#payloadLength} the handler gets exactly the program's {@code n} bytes.
 *
 * <p>The rings' positions and records are checked as they are read: a ring whose mapping was changed by
 * someone else raises a {@link BpfException} naming the CPU and what is wrong, and reading goes on from a
 * position that can be. The buffer does not own the map; it only adds (and on close removes) the entries for
 * its CPUs.
 */
public final class PerfBuffer implements EventReader {
    private static final Logger LOG = LoggerFactory.getLogger(PerfBuffer.class);

    /** Handler receives one sample: the CPU it was written on, the payload, and its time (0 without timestamps). */
    @FunctionalInterface
    public interface Handler extends PerfSink {
        /**
         * Handles one sample and says whether to go on. If it throws, the sample still counts as delivered (so a
         * sample that always makes the handler fail cannot wedge the ring), and the exception reaches the caller.
         *
         * @param cpu the CPU whose ring it was written to
         * @param payload the sample's bytes, valid only during this call
         * @param timestamp the kernel's CLOCK_MONOTONIC stamp, or 0 without {@link PerfOptions#timestamps}
         * @return true to take the next sample; false to make the call return after this one, leaving the samples
         *         behind it in the rings for the next call
         */
        boolean onRecord(int cpu, MemorySegment payload, long timestamp);
    }

    private final String what;
    private final PerfCpuSet set;   // (benchmarks reach the rings through this field by name)
    private final Epoll epoll;
    private final PerfWait waits;
    private final BatchDelay batch = new BatchDelay();
    private final ConsumerGate gate;
    /** Per ring: samples handed to handlers, added once per read. */
    private final AtomicLongArray delivered;
    private final PerfPassEvents events;
    private volatile long droppedAtClose;
    /** Whether the last ring read stopped because its handler returned false. Consumer thread only. */
    private boolean stopped;

    private PerfBuffer(BpfMap map, PerfOptions options, String what) {
        this.what = what;
        this.set = PerfCpuSet.open(map, options, what);
        this.epoll = set.epoll();
        this.waits = new PerfWait(epoll, set.size());
        this.delivered = new AtomicLongArray(set.size());
        this.events = new PerfPassEvents("PerfBuffer", map.name(), set, this::delivered);
        this.gate = new ConsumerGate(what, this::release);
    }

    /**
     * Opens the buffer with {@link PerfOptions#defaults()}: 64 pages on every online CPU, a wakeup per event.
     *
     * @param map the PERF_EVENT_ARRAY to read
     * @return the open buffer
     * @throws BpfException when the kernel refuses a step (the errno says which), or the map is read already
     */
    public static PerfBuffer of(BpfMap map) {
        return of(map, PerfOptions.defaults());
    }

    /**
     * Opens a perf event on each chosen CPU (every online CPU by default; offline ones are skipped), maps its ring,
     * enables it, and stores its fd in {@code map} at key = CPU, so that {@code bpf_perf_event_output(...,
     * BPF_F_CURRENT_CPU, ...)} lands in the ring of the CPU the program runs on.
     *
     * @param map the PERF_EVENT_ARRAY to read
     * @param options sizes, wakeups, timestamps, CPUs and payload size
     * @return the open buffer
     * @throws IllegalArgumentException for a map of another type, or options the map or ring cannot take
     * @throws BpfException when the kernel refuses a step (the errno says which: EMFILE means the process has no
     *         fd left), or another buffer in this process reads the map already
     */
    public static PerfBuffer of(BpfMap map, PerfOptions options) {
        return new PerfBuffer(map, options, "perf buffer on " + map);
    }

    /**
     * Waits up to {@code timeout} for a CPU's ring to signal (per {@link PerfOptions#wakeupEvents} or
     * {@link PerfOptions#wakeupBytes}), then reads every signalled ring to its end. Records that have not yet
     * reached a wakeup stay until the next signal or a {@link #consume} call.
     *
     * <p>When a handler returns false or throws (or a sample contradicts {@link PerfOptions#payloadSize}), the
     * call ends there; the rings that had signalled and were not yet read to their end, that one included, are
     * read first by the next poll, before it waits (the kernel signals a ring once, not for as long as it holds
     * data, so nothing is left waiting for a signal).
     *
     * @param handler receives each sample
     * @param timeout how long to wait at most; {@code Duration.ZERO} does not wait, and a timeout of a century or
     *        more waits without limit. An interrupt of the calling thread ends the wait (the status stays set)
     * @return the number of samples handled; 0 when the timeout passed, on {@link #wakeup()}, or when another
     *         thread closed the buffer meanwhile
     * @throws BufferClosedException if the buffer was closed before the call
     * @throws IllegalArgumentException if {@code timeout} is negative
     * @throws BpfException for a ring whose records cannot be, or a sample contradicting the payload options
     */
    public int poll(Handler handler, Duration timeout) {
        Objects.requireNonNull(handler, "handler");
        long deadline = Deadline.after(timeout);
        gate.enter();
        try {
            boolean woken = batch.await(deadline, epoll);  // woken in the delay: one pass over every ring
            boolean pendingOnly = !woken;
            boolean waited = false;
            while (true) {
                int n = readAll(handler, 0, set.size(), pendingOnly);
                if (n > 0 || woken || gate.isClosed() || (waited && Deadline.passed(deadline))) {
                    batch.ended(n);
                    return n;
                }
                woken = waits.await(deadline) == PerfWait.WOKEN;
                waited = true;
            }
        } finally {
            gate.exit();
        }
    }

    /**
     * Like {@link #poll(Handler, Duration)}, decoding each payload into a Java record with {@code codec}; verify the
     * codec against the program's struct once first ({@link StructCodec#verify}); an unverified codec is refused
     * with an IllegalStateException.
     *
     * @param codec the verified codec of the program's struct
     * @param handler receives each decoded record, and returns false to stop
     * @param timeout how long to wait at most
     * @param <R> the record type
     * @return the number of samples handled
     */
    public <R extends Record> int poll(StructCodec<R> codec, EventHandler<? super R> handler, Duration timeout) {
        return poll(typed(codec, handler), timeout);
    }

    /**
     * Like {@link #consume(Handler)}, decoding each payload into a Java record with {@code codec}.
     *
     * @param codec the verified codec of the program's struct
     * @param handler receives each decoded record, and returns false to stop
     * @param <R> the record type
     * @return the number of samples handled
     */
    public <R extends Record> int consume(StructCodec<R> codec, EventHandler<? super R> handler) {
        return consume(typed(codec, handler));
    }

    /** The raw handler of a typed view: decode, then let the typed handler say whether to go on. */
    private static <R extends Record> Handler typed(StructCodec<R> codec, EventHandler<? super R> handler) {
        Objects.requireNonNull(handler, "handler");
        codec.requireVerified("typed perf buffer view");
        RecordDecoder decoder = Decoders.of(codec);   // its own call site here: the JIT inlines the decode
        @SuppressWarnings("unchecked")
        Handler typed = (cpu, payload, timestamp) -> handler.onEvent((R) decoder.decode(payload, 0));
        return typed;
    }

    /**
     * Reads every CPU's ring to its end without waiting (or until a handler returns false).
     *
     * @param handler receives each sample
     * @return the number of samples handled
     * @throws BufferClosedException if the buffer was closed
     * @throws BpfException for a ring whose records cannot be, or a sample contradicting the payload options
     */
    public int consume(Handler handler) {
        Objects.requireNonNull(handler, "handler");
        gate.enter();
        try {
            return readAll(handler, 0, set.size(), false);
        } finally {
            gate.exit();
        }
    }

    /**
     * Reads one CPU's ring to its end without waiting (or until a handler returns false).
     *
     * @param cpu the CPU, one of {@link #cpus()}
     * @param handler receives each sample
     * @return the number of samples handled
     * @throws IllegalArgumentException if this buffer does not read {@code cpu}
     * @throws BufferClosedException if the buffer was closed
     */
    public int consume(int cpu, Handler handler) {
        Objects.requireNonNull(handler, "handler");
        int i = ringIndex(cpu);
        gate.enter();
        try {
            return readAll(handler, i, i + 1, false);
        } finally {
            gate.exit();
        }
    }

    /** One pass, reported to JFR: rings from..to-1 (the pending ones, with pendingOnly) until a handler stops. */
    private int readAll(Handler handler, int from, int to, boolean pendingOnly) {
        int n = 0;
        stopped = false;
        events.begin();
        try {
            for (int i = from; i < to && !stopped && !gate.isClosedPlain(); i++) {
                if (!pendingOnly || waits.isPending(i)) {
                    n += read(i, handler);  // if it throws, this ring and the ones after it stay pending
                }
            }
        } finally {
            events.end();
        }
        return n;
    }

    /**
     * One pass over ring {@code index}: every record the kernel had published when it began, until the handler
     * returns false or closes the buffer. The tail is published in {@code finally}, so a sample whose handler
     * throws counts as consumed and the rest stay in the ring.
     */
    private int read(int index, Handler handler) {
        PerfCursor ring = set.ring(index);
        int n = 0;
        try {
            ring.begin();
            n = ring.drain(handler, gate);            // Handler is a PerfSink: no adapter per read
        } finally {
            ring.end();
            int counted = ring.drained();  // also when the handler threw
            if (counted != 0) {
                delivered.getAndAdd(index, counted);
            }
        }
        boolean more = !ring.stopped();
        stopped = !more;
        if (more) {
            waits.done(index);
        }
        return n;
    }

    @Override
    public void wakeup() {
        epoll.wakeup();
    }

    @Override
    public void batchDelay(Duration delay) {
        batch.set(delay, toString());
    }

    @Override
    public Duration batchDelay() {
        return batch.get();
    }

    /** {@return the CPUs this buffer reads, ascending} */
    public List<Integer> cpus() {
        return set.cpus();
    }

    /**
     * Samples handed to handlers on one CPU (also after close).
     *
     * @param cpu the CPU, one of {@link #cpus()}
     * @return the count
     * @throws IllegalArgumentException if this buffer does not read {@code cpu}
     */
    public long delivered(int cpu) {
        return delivered.get(ringIndex(cpu));
    }

    /**
     * Events the kernel reported lost on one CPU, its ring being full (also after close).
     *
     * @param cpu the CPU, one of {@link #cpus()}
     * @return the count
     * @throws IllegalArgumentException if this buffer does not read {@code cpu}
     */
    public long lost(int cpu) {
        return set.ring(ringIndex(cpu)).lost();
    }

    /** Samples handed to handlers, all CPUs together (also after close). */
    @Override
    public long delivered() {
        long n = 0;
        for (int i = 0; i < set.size(); i++) {
            n += delivered.get(i);
        }
        return n;
    }

    /** Events the kernel reported lost, all CPUs together (also after close). */
    @Override
    public long lost() {
        return set.lost();
    }

    /** {@return panbpf_perf_event_output failures since this opened (0 if unused); a full ring counts in lost()} */
    public long producerDrops() {
        return set.producerDrops();
    }

    /**
     * Samples that were still unread in the rings when the buffer closed, and so never delivered: the close
     * counts them (after the events were disabled, so none arrives after the count) and logs a warning. 0 before
     * close, and until a consumer still inside has left.
     */
    @Override
    public long droppedAtClose() {
        return droppedAtClose;
    }

    private int ringIndex(int cpu) {
        return set.indexOf(cpu, what);
    }

    @Override
    public boolean isClosed() {
        return gate.isClosed();
    }

    /**
     * Removes this buffer's entries from the map, disables the events, counts the samples left unread
     * ({@link #droppedAtClose()}), unmaps the rings and closes the fds, in that order. From another thread while
     * {@link #poll} waits, the poller is woken and releases on its way out. Idempotent.
     */
    @Override
    public void close() {
        if (gate.close()) {
            epoll.wakeup();
        }
    }

    private void release() {
        set.close();
        long dropped = set.droppedAtClose();
        droppedAtClose = dropped;
        if (dropped > 0) {
            LOG.warn("{}: closed with {} samples unread in the rings; they were dropped (read them with consume() "
                    + "before close() to receive them)", what, dropped);
        }
    }

    @Override
    public String toString() {
        return what + " (CPUs " + cpus() + (isClosed() ? ", closed)" : ")");
    }
}
