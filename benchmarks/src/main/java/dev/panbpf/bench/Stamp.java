package dev.panbpf.bench;

import dev.panbpf.event.Unsigned;

/** Stamp is the 24-byte head of every producer record, decoded by the typed-record benchmarks. */
public record Stamp(@Unsigned long seq, @Unsigned long ts, @Unsigned int cpu, @Unsigned int cpuSeq) {
}
