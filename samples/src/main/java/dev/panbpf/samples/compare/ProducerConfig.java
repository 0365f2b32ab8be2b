package dev.panbpf.samples.compare;

import dev.panbpf.event.Unsigned;

/**
 * ProducerConfig is {@code struct producer_config} of {@code producer.bpf.c}, the one value of its {@code config}
 * map: what each run of program {@code produce} emits.
 *
 * @param count        records per run
 * @param size         payload bytes per record (8..8192)
 * @param discardEvery discard every k-th ring record (0: never)
 * @param rbFlags      flags for ring buffer submit (0: adaptive wakeup)
 * @param target       bit 0: ring buffer {@code rb}; bit 1: perf buffer {@code pb}
 * @param wakeupEvery  force a ring wakeup on every n-th record (0: never)
 */
record ProducerConfig(@Unsigned int count, @Unsigned int size, @Unsigned int discardEvery, @Unsigned int rbFlags,
                      @Unsigned int target, @Unsigned int wakeupEvery) {
    static final int RING = 1;
    static final int PERF = 2;
}
