package dev.panbpf.samples.compare;

import dev.panbpf.Cpus;

import java.time.Duration;
import java.util.List;
import java.util.Set;

/**
 * Settings is what one {@code compare} run does, every value already checked by {@link CompareOptions}.
 *
 * @param size       payload bytes per record
 * @param perRun     records per program run
 * @param perfPages  perf data pages per CPU, a power of two
 * @param perfWakeup perf samples per wakeup
 * @param ringBytes  the ring buffer's data bytes, a power of two and a page multiple
 * @param cpus       the CPUs a producer thread is pinned to, one each
 * @param eachBuffer how long each buffer is measured
 * @param warmup     how long each buffer runs before measuring starts (not counted)
 * @param buffers    the buffers to measure; the others are reported as not run
 */
record Settings(int size, int perRun, int perfPages, int perfWakeup, long ringBytes, List<Integer> cpus,
                Duration eachBuffer, Duration warmup, Set<Buffer> buffers) {
    static final long PAGE = Cpus.pageSize();

    /** Settings with the defaults for what the command line does not set: ring matched to perf, no warm-up. */
    static Settings of(int size, int perRun, int perfPages, int perfWakeup, List<Integer> cpus, Duration each) {
        return new Settings(size, perRun, perfPages, perfWakeup, matchedRingBytes(cpus.size(), perfPages), cpus,
                each, Duration.ZERO, Set.of(Buffer.RING, Buffer.PERF));
    }

    /** The perf rings' data bytes together. */
    long perfBytes() {
        return (long) cpus.size() * perfPages * PAGE;
    }

    /** The ring size that matches the perf rings: their bytes together, rounded up to a power of two. */
    static long matchedRingBytes(int cpus, int perfPages) {
        long b = (long) cpus * perfPages * PAGE;
        return Long.bitCount(b) == 1 ? b : Long.highestOneBit(b) << 1;
    }
}
