package dev.panbpf.bench;

import dev.panbpf.event.Unsigned;

/** ProducerCounters is {@code struct producer_counters} of {@code producer.bpf.c}: what program produce did. */
public record ProducerCounters(@Unsigned long seq, @Unsigned long ringOk, @Unsigned long ringFailed,
                               @Unsigned long ringDiscarded, @Unsigned long perfOk, @Unsigned long perfFailed) {
}
