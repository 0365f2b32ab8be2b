package dev.panbpf.bench;

import dev.panbpf.event.Unsigned;

/**
 * ProducerConfig is {@code struct producer_config} of {@code producer.bpf.c}: what each run of program
 * {@code produce} emits (records per run, payload size, discards, ring submit flags, target buffers). A size of 0
 * asks for mixed sizes ({@link DrainBenchmark#MIXED}).
 */
public record ProducerConfig(@Unsigned int count, @Unsigned int size, @Unsigned int discardEvery,
                             @Unsigned int rbFlags, @Unsigned int target, @Unsigned int wakeupEvery) {
    /** RING targets the ring buffer {@code rb}. */
    public static final int RING = 1;
    /** PERF targets the perf event array {@code pb}. */
    public static final int PERF = 2;
    /** NO_WAKEUP is BPF_RB_NO_WAKEUP: submit without waking a consumer. */
    public static final int NO_WAKEUP = 1;
}
