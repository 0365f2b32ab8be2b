package dev.panbpf.samples.compare;

import dev.panbpf.event.Unsigned;

/**
 * ProducerCounters is {@code struct producer_counters} of {@code producer.bpf.c}: what program {@code produce}
 * did, counted with atomic adds in its {@code counters} map.
 *
 * @param seq           sequence numbers handed out (records attempted)
 * @param ringOk        ring buffer records submitted
 * @param ringFailed    ring buffer reserves that failed: the ring was full
 * @param ringDiscarded ring buffer records discarded on purpose
 * @param perfOk        perf buffer outputs that succeeded
 * @param perfFailed    perf buffer outputs that failed
 */
record ProducerCounters(@Unsigned long seq, @Unsigned long ringOk, @Unsigned long ringFailed,
                        @Unsigned long ringDiscarded, @Unsigned long perfOk, @Unsigned long perfFailed) {
}
