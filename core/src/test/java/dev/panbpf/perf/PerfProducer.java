package dev.panbpf.perf;

import dev.panbpf.BpfMap;
import dev.panbpf.BpfObject;
import dev.panbpf.bpf.BpfPrograms;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_INT_UNALIGNED;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED;

/**
 * PerfProducer drives the shared producer program (bpf-src producer.bpf.c) towards its perf event array
 * {@code pb}: each run on a CPU emits {@code count} records of {@code size} bytes with bpf_perf_event_output.
 */
final class PerfProducer implements AutoCloseable {
    /** struct producer_counters offsets: u64 seq, ring_ok, ring_failed, ring_discarded, perf_ok, perf_failed. */
    static final int SEQ = 0;
    static final int PERF_OK = 32;
    static final int PERF_FAILED = 40;
    private static final int TARGET_PERF = 2;

    /** The first two online CPUs, for tests that interleave producers; skips (with the reason) on one CPU. */
    static java.util.List<Integer> twoCpus() {
        java.util.List<Integer> cpus = dev.panbpf.Cpus.online();
        dev.panbpf.testing.Kernel.require(cpus.size() >= 2, "two online CPUs to interleave producers on");
        return cpus.subList(0, 2);
    }

    /** Default perf buffer options reading only {@code cpus}. */
    static PerfOptions on(java.util.List<Integer> cpus) {
        return PerfOptions.defaults().cpus(cpus);
    }

    /** One decoded payload: | u64 seq | u64 ts | u32 cpu | u32 cpu_seq | pattern (seq + i) & 0xff |. */
    record Payload(long seq, long ts, int cpu, int cpuSeq) {
        static Payload of(MemorySegment p) {
            long n = p.byteSize();   // records shorter than 24 bytes carry only the leading fields
            return new Payload(n >= 8 ? p.get(JAVA_LONG_UNALIGNED, 0) : -1, n >= 16 ? p.get(JAVA_LONG_UNALIGNED, 8) : -1,
                    n >= 20 ? p.get(JAVA_INT_UNALIGNED, 16) : -1, n >= 24 ? p.get(JAVA_INT_UNALIGNED, 20) : -1);
        }

        /** Whether bytes 24.. of {@code p} (up to {@code size}) follow the pattern. */
        static boolean patternHolds(MemorySegment p, int size) {
            long seq = p.get(JAVA_LONG_UNALIGNED, 0);
            for (int i = 24; i < size; i++) {
                if (p.get(JAVA_BYTE, i) != (byte) (seq + i)) {
                    return false;
                }
            }
            return true;
        }
    }

    final BpfObject obj;
    private final Arena arena = Arena.ofShared();
    private final MemorySegment packet = arena.allocate(64);

    PerfProducer() {
        obj = BpfObject.open(BpfPrograms.bytes("producer.bpf.o"), "producer").load();
    }

    BpfMap pb() {
        return obj.map("pb");
    }

    /** Sets records per run and payload bytes, perf target only. */
    PerfProducer configure(int count, int size) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment cfg = a.allocate(24);
            cfg.set(JAVA_INT, 0, count);
            cfg.set(JAVA_INT, 4, size);
            cfg.set(JAVA_INT, 16, TARGET_PERF);
            obj.map("config").update(a.allocateFrom(JAVA_INT, 0), cfg);
        }
        return this;
    }

    /** Runs the program {@code repeat} times on {@code cpu} (the calling thread is pinned for the run). */
    void run(int cpu, int repeat) {
        obj.program("produce").testRun(packet, repeat, cpu);
    }

    long counter(int offset) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment v = a.allocate(48);
            obj.map("counters").lookup(a.allocateFrom(JAVA_INT, 0), v);
            return v.get(JAVA_LONG, offset);
        }
    }

    @Override
    public void close() {
        obj.close();
        arena.close();
    }
}
