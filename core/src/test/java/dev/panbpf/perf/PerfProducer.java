package dev.panbpf.perf;

import dev.panbpf.BpfMap;
import dev.panbpf.BpfObject;
import dev.panbpf.bpf.BpfPrograms;
import dev.panbpf.testing.ProducerConfig;
import dev.panbpf.testing.ProducerCounters;
import dev.panbpf.testing.ProducerObject;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT_UNALIGNED;
import static java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED;

/**
 * PerfProducer drives the shared producer program (bpf-src producer.bpf.c) towards its perf event array
 * {@code pb}: each run on a CPU emits {@code count} records of {@code size} bytes with bpf_perf_event_output.
 */
final class PerfProducer implements AutoCloseable {
    /** {@link ProducerConfig#target()}: the perf event array {@code pb}. */
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

    final ProducerObject bpf;
    final BpfObject obj;
    private final Arena arena = Arena.ofShared();
    private final MemorySegment packet = arena.allocate(64);

    PerfProducer() {
        bpf = ProducerObject.of(BpfObject.open(BpfPrograms.bytes("producer.bpf.o"), "producer")).load();
        obj = bpf.object();
    }

    BpfMap pb() {
        return bpf.pb();
    }

    /** Sets records per run and payload bytes, perf target only. */
    PerfProducer configure(int count, int size) {
        bpf.updateConfig(0, new ProducerConfig(count, size, 0, 0, TARGET_PERF, 0));
        return this;
    }

    /** Runs the program {@code repeat} times on {@code cpu} (the calling thread is pinned for the run). */
    void run(int cpu, int repeat) {
        bpf.produce().testRun(packet, repeat, cpu);
    }

    /** The program's counters now. */
    ProducerCounters counters() {
        return bpf.lookupCounters(0);
    }

    @Override
    public void close() {
        bpf.close();
        arena.close();
    }
}
