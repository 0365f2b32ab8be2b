package dev.panbpf;

import dev.panbpf.event.StructCodec;
import dev.panbpf.internal.ConsumerGate;
import dev.panbpf.internal.Epoll;
import dev.panbpf.internal.PerfCpuSet;
import dev.panbpf.internal.PerfLayout;
import dev.panbpf.internal.Sys;

import java.lang.foreign.MemorySegment;
import java.lang.invoke.VarHandle;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.function.Consumer;
import java.util.function.ToIntFunction;

/**
 * PerfBuffer reads a BPF_MAP_TYPE_PERF_EVENT_ARRAY: one perf event and one mapped ring per CPU, filled by
 * {@code bpf_perf_event_output}. Records are parsed in Java straight from the mappings; events the kernel had to
 * drop because a ring was full are counted per CPU and reported to {@link Options#onLost}.
 *
 * <p>One thread at a time consumes ({@link #poll}, {@link #consume}); {@link #wakeup()} and {@link #close()} may
 * come from any thread and release a blocked {@code poll} promptly. After close, poll and consume return 0.
 *
 * <p>Payload segments are slices of the kernel's mapping (or of a per-CPU scratch copy for records that wrap the
 * ring's end): they are valid only until the handler returns. Copy what you keep. The kernel places a payload
 * 4 bytes past an 8-byte boundary, so read its fields with the {@code *_UNALIGNED} value layouts.
 *
 * <p>What a payload holds. The kernel does not record how many bytes the program passed: it stores a raw size
 * {@code R = roundUp(n + 4, 8) - 4} for {@code n} bytes sent and leaves the {@code R - n} (at most 7) bytes after
 * them as they were, stale. By default the handler gets all {@code R} bytes, so the first {@code n} are exactly
 * the program's and up to 7 trailing bytes are not. With {@link Options#payloadSize} or
 * {@link Options#payloadLength} the handler gets exactly the program's {@code n} bytes.
 *
 * <p>The buffer does not own the map; it only adds (and on close removes) the entries for its CPUs.
 */
public final class PerfBuffer implements AutoCloseable {

    /** Handler receives one sample: the CPU it was written on, the payload, and its time (0 without timestamps). */
    @FunctionalInterface
    public interface Handler {
        /** Handles one sample; {@code payload} is valid only during this call. */
        void onRecord(int cpu, MemorySegment payload, long timestamp);
    }

    /** LostHandler hears that the kernel dropped {@code count} events on {@code cpu} because its ring was full. */
    @FunctionalInterface
    public interface LostHandler {
        /** Called once per LOST record the kernel wrote. */
        void onLost(int cpu, long count);
    }

    private final String what;
    private final PerfCpuSet set;
    private final Epoll epoll;
    private final ConsumerGate gate;
    private final LostHandler onLost;

    private PerfBuffer(BpfMap map, int[] cpus, Options options) {
        this.what = "perf buffer on " + map;
        this.onLost = options.onLost();
        this.epoll = new Epoll(cpus.length);
        try {
            this.set = new PerfCpuSet(map, cpus, options, epoll);
        } catch (RuntimeException | Error e) {
            epoll.close();
            throw e;
        }
        this.gate = new ConsumerGate(what, this::release);
    }

    /** Opens the buffer with {@link Options#defaults()}: 64 pages on every online CPU, a wakeup per event. */
    public static PerfBuffer of(BpfMap map) {
        return of(map, Options.defaults());
    }

    /**
     * Opens a perf event on each chosen CPU (every online CPU by default; offline ones are skipped), maps its ring,
     * enables it, and stores its fd in {@code map} at key = CPU, so that {@code bpf_perf_event_output(...,
     * BPF_F_CURRENT_CPU, ...)} lands in the ring of the CPU the program runs on.
     */
    public static PerfBuffer of(BpfMap map, Options options) {
        if (map.mapType() != MapType.PERF_EVENT_ARRAY) {
            throw new IllegalArgumentException(map + " is not a PERF_EVENT_ARRAY; PerfBuffer reads only those"
                    + (map.mapType() == MapType.RINGBUF ? " (read ring buffers with RingBuffer)" : ""));
        }
        int[] cpus = chooseCpus(map, options);
        long dataBytes = options.pagesPerCpu() * Sys.PAGE_SIZE;
        if (options.wakeupBytes() > dataBytes) {
            throw new IllegalArgumentException("wakeupBytes " + options.wakeupBytes() + " exceeds the " + dataBytes
                    + "-byte ring of each CPU (" + options.pagesPerCpu() + " pages); lower it or add pages");
        }
        return new PerfBuffer(map, cpus, options);
    }

    private static int[] chooseCpus(BpfMap map, Options options) {
        List<Integer> online = Cpus.online();
        List<Integer> wanted = options.cpus() == null ? online : options.cpus();
        List<Integer> chosen = new ArrayList<>();
        for (int cpu : wanted) {
            if (!online.contains(cpu)) {
                continue;  // an offline CPU runs no programs, and perf_event_open refuses it
            }
            if (cpu >= map.maxEntries()) {
                throw new IllegalArgumentException(map + " has " + map.maxEntries() + " entries but CPU " + cpu
                        + " needs key " + cpu + "; size the map to the number of possible CPUs ("
                        + Cpus.possible().size() + ")");
            }
            chosen.add(cpu);
        }
        if (chosen.isEmpty()) {
            throw new IllegalArgumentException("none of the CPUs " + wanted + " is online (online: " + online + ")");
        }
        return chosen.stream().mapToInt(Integer::intValue).sorted().distinct().toArray();
    }

    // ---------------------------------------------------------------------------------------------- consuming

    /**
     * Waits up to {@code timeout} for a CPU's ring to signal (per {@link Options#wakeupEvents} or
     * {@link Options#wakeupBytes}), then reads every signalled ring to its end. Returns the number of samples
     * handled; 0 on timeout, {@link #wakeup()} or close. Records that have not yet reached a wakeup stay until the
     * next signal or a {@link #consume} call; so do the records after one whose handler threw (the kernel reports
     * a ring's readiness once, not for as long as it holds data).
     */
    public int poll(Handler handler, Duration timeout) {
        int millis = toMillis(timeout);
        gate.enter();
        try {
            // Our data_tail stores must be visible before we sleep, so that a kernel waiting for room sees them.
            VarHandle.fullFence();
            int ready = epoll.await(millis);
            int n = 0;
            for (int i = 0; i < ready && !gate.isClosed(); i++) {
                long tag = epoll.tag(i);
                if (tag != Epoll.WAKEUP_TAG) {
                    n += set.ring((int) tag).read(handler, onLost);
                }
            }
            return n;
        } finally {
            gate.exit();
        }
    }

    /**
     * Like {@link #poll(Handler, Duration)}, decoding each payload into a Java record with {@code codec}; verify the
     * codec against the program's struct once first ({@link StructCodec#verify}); an unverified codec is refused
     * with an IllegalStateException.
     */
    public <R extends Record> int poll(StructCodec<R> codec, Consumer<? super R> handler, Duration timeout) {
        return poll(codec.perfHandler(handler), timeout);
    }

    /** Like {@link #consume(Handler)}, decoding each payload into a Java record with {@code codec}. */
    public <R extends Record> int consume(StructCodec<R> codec, Consumer<? super R> handler) {
        return consume(codec.perfHandler(handler));
    }

    /** Reads every CPU's ring to its end without waiting; returns the number of samples handled. */
    public int consume(Handler handler) {
        gate.enter();
        try {
            int n = 0;
            for (int i = 0; i < set.size(); i++) {
                n += set.ring(i).read(handler, onLost);
            }
            return n;
        } finally {
            gate.exit();
        }
    }

    /** Reads one CPU's ring to its end without waiting; returns the number of samples handled. */
    public int consume(int cpu, Handler handler) {
        int i = ringIndex(cpu);
        gate.enter();
        try {
            return set.ring(i).read(handler, onLost);
        } finally {
            gate.exit();
        }
    }

    /** Releases a thread blocked in {@link #poll}, which then returns 0; safe from any thread. */
    public void wakeup() {
        epoll.wakeup();
    }

    // ---------------------------------------------------------------------------------------------- counters

    /** The CPUs this buffer reads, in ascending order. */
    public List<Integer> cpus() {
        List<Integer> list = new ArrayList<>(set.size());
        for (int i = 0; i < set.size(); i++) {
            list.add(set.cpu(i));
        }
        return List.copyOf(list);
    }

    /** Samples handed to handlers on {@code cpu}. */
    public long delivered(int cpu) {
        return set.ring(ringIndex(cpu)).delivered();
    }

    /** Events the kernel reported lost on {@code cpu} (its ring was full). */
    public long lost(int cpu) {
        return set.ring(ringIndex(cpu)).lost();
    }

    /** Samples handed to handlers, all CPUs together. */
    public long delivered() {
        long n = 0;
        for (int i = 0; i < set.size(); i++) {
            n += set.ring(i).delivered();
        }
        return n;
    }

    /** Events the kernel reported lost, all CPUs together. */
    public long lost() {
        long n = 0;
        for (int i = 0; i < set.size(); i++) {
            n += set.ring(i).lost();
        }
        return n;
    }

    private int ringIndex(int cpu) {
        int i = set.indexOf(cpu);
        if (i < 0) {
            throw new IllegalArgumentException(what + " does not read CPU " + cpu + "; it reads " + cpus());
        }
        return i;
    }

    // ---------------------------------------------------------------------------------------------- closing

    /** Whether {@link #close()} was called. */
    public boolean isClosed() {
        return gate.isClosed();
    }

    /**
     * Removes this buffer's entries from the map, disables the events, unmaps the rings and closes the fds, in
     * that order. From another thread while {@link #poll} waits, the poller is woken and releases on its way out.
     */
    @Override
    public void close() {
        if (gate.close()) {
            epoll.wakeup();
        }
    }

    private void release() {
        set.close();
        epoll.close();
    }

    private static int toMillis(Duration timeout) {
        if (timeout.isNegative()) {
            throw new IllegalArgumentException("timeout must not be negative: " + timeout);
        }
        if (timeout.compareTo(Duration.ofMillis(Integer.MAX_VALUE)) >= 0) {
            return Integer.MAX_VALUE;
        }
        long ms = timeout.toMillis() + (timeout.toNanosPart() % 1_000_000 != 0 ? 1 : 0);
        return (int) Math.min(ms, Integer.MAX_VALUE);
    }

    @Override
    public String toString() {
        return what + " (CPUs " + cpus() + (isClosed() ? ", closed)" : ")");
    }

    // ---------------------------------------------------------------------------------------------- for OrderedPerfBuffer

    /** The rings in the order of {@link #cpus()}, for a reader that steps through them itself (one consumer). */
    dev.panbpf.internal.PerfRing[] rings() {
        dev.panbpf.internal.PerfRing[] rings = new dev.panbpf.internal.PerfRing[set.size()];
        for (int i = 0; i < rings.length; i++) {
            rings[i] = set.ring(i);
        }
        return rings;
    }

    /** The lost-events callback of the options, or null. */
    LostHandler lostHandler() {
        return onLost;
    }

    /**
     * Waits up to {@code timeout} for a CPU's ring to signal, reading nothing: returns whether one did (false on
     * timeout, {@link #wakeup()} or close). The caller reads the rings afterwards.
     */
    boolean await(Duration timeout) {
        int millis = toMillis(timeout);
        gate.enter();
        try {
            // Our data_tail stores must be visible before we sleep, so that a kernel waiting for room sees them.
            VarHandle.fullFence();
            int ready = epoll.await(millis);
            boolean signalled = false;
            for (int i = 0; i < ready; i++) {
                signalled |= epoll.tag(i) != Epoll.WAKEUP_TAG;
            }
            return signalled;
        } finally {
            gate.exit();
        }
    }

    /**
     * Options configures a {@link PerfBuffer}. Options are immutable: each setter returns a changed copy, and
     * checks its argument at once.
     */
    public static final class Options {
        private int pagesPerCpu = 64;
        private int wakeupEvents = 1;
        private int wakeupBytes;
        private boolean timestamps;
        private List<Integer> cpus;
        private LostHandler onLost;
        private int payloadSize = -1;
        private ToIntFunction<MemorySegment> payloadLength;

        private Options() { }

        private Options copy() {
            Options o = new Options();
            o.pagesPerCpu = pagesPerCpu;
            o.wakeupEvents = wakeupEvents;
            o.wakeupBytes = wakeupBytes;
            o.timestamps = timestamps;
            o.cpus = cpus;
            o.onLost = onLost;
            o.payloadSize = payloadSize;
            o.payloadLength = payloadLength;
            return o;
        }

        /** Options.defaults: 64 pages per CPU, a wakeup per event, no timestamps, every online CPU. */
        public static Options defaults() {
            return new Options();
        }

        /** Data pages per CPU ring: a power of two (the kernel maps one metadata page plus 2^n data pages). */
        public Options pagesPerCpu(int pages) {
            if (pages <= 0 || Integer.bitCount(pages) != 1) {
                int up = pages <= 1 ? 1 : Integer.highestOneBit(pages - 1) << 1;
                throw new IllegalArgumentException("pagesPerCpu " + pages + " is not a power of two; the kernel "
                        + "maps 1 metadata page plus 2^n data pages per CPU, so use e.g. " + up);
            }
            Options o = copy();
            o.pagesPerCpu = pages;
            return o;
        }

        /** Wakes {@link #poll} after every {@code n} samples on a CPU (1 = each one; more = cheaper, later). */
        public Options wakeupEvents(int n) {
            if (n < 1) {
                throw new IllegalArgumentException("wakeupEvents must be at least 1, got " + n);
            }
            Options o = copy();
            o.wakeupEvents = n;
            o.wakeupBytes = 0;
            return o;
        }

        /** Wakes {@link #poll} once a CPU's ring holds {@code bytes} unread bytes, instead of counting events. */
        public Options wakeupBytes(int bytes) {
            if (bytes < 1) {
                throw new IllegalArgumentException("wakeupBytes must be at least 1, got " + bytes);
            }
            Options o = copy();
            o.wakeupBytes = bytes;
            return o;
        }

        /**
         * Asks the kernel to stamp each sample with CLOCK_MONOTONIC nanoseconds (the clock of
         * {@code bpf_ktime_get_ns}), taken just before the sample is written; costs 8 bytes per record.
         */
        public Options timestamps(boolean on) {
            Options o = copy();
            o.timestamps = on;
            return o;
        }

        /** Reads only these CPUs (those offline are skipped); by default every online CPU. */
        public Options cpus(Collection<Integer> list) {
            for (Integer c : list) {
                if (c == null || c < 0) {
                    throw new IllegalArgumentException("not a CPU number: " + c + " in " + list);
                }
            }
            Options o = copy();
            o.cpus = List.copyOf(list);
            return o;
        }

        /** Calls {@code handler} with the CPU and count each time the kernel reports dropped events. */
        public Options onLost(LostHandler handler) {
            Options o = copy();
            o.onLost = handler;
            return o;
        }

        /**
         * Declares that the program always sends exactly {@code bytes} bytes, so handlers get exactly those and
         * not the kernel's alignment padding; a sample of another size raises an error.
         */
        public Options payloadSize(int bytes) {
            if (bytes < 0 || bytes > PerfLayout.MAX_RECORD_BYTES) {
                throw new IllegalArgumentException("payloadSize must be 0.." + PerfLayout.MAX_RECORD_BYTES
                        + ", got " + bytes);
            }
            Options o = copy();
            o.payloadSize = bytes;
            o.payloadLength = null;
            return o;
        }

        /**
         * Declares how to read the program's length from its own bytes (for variable-size records that carry
         * their length): {@code length} sees the raw area, padding included, and returns the real size.
         */
        public Options payloadLength(ToIntFunction<MemorySegment> length) {
            Options o = copy();
            o.payloadLength = java.util.Objects.requireNonNull(length, "length");
            o.payloadSize = -1;
            return o;
        }

        /** Data pages per CPU. */
        public int pagesPerCpu() {
            return pagesPerCpu;
        }

        /** Samples per wakeup (ignored when {@link #wakeupBytes()} is set). */
        public int wakeupEvents() {
            return wakeupEvents;
        }

        /** Unread bytes per wakeup, or 0 when waking by event count. */
        public int wakeupBytes() {
            return wakeupBytes;
        }

        /** Whether samples carry a timestamp. */
        public boolean timestamps() {
            return timestamps;
        }

        /** The CPUs asked for, or null for every online CPU. */
        public List<Integer> cpus() {
            return cpus;
        }

        /** The lost-events callback, or null. */
        public LostHandler onLost() {
            return onLost;
        }

        /** The declared fixed payload size, or -1. */
        public int payloadSize() {
            return payloadSize;
        }

        /** The declared payload length function, or null. */
        public ToIntFunction<MemorySegment> payloadLength() {
            return payloadLength;
        }
    }
}
