package dev.panbpf.bench;

import dev.panbpf.event.Unsigned;

/**
 * Stamp is {@code struct producer_record}, the 24-byte head of every producer record, decoded by the typed-record
 * benchmarks (verified against the object's BTF when a Producer loads).
 */
public record Stamp(@Unsigned long seq, @Unsigned long ts, @Unsigned int cpu, @Unsigned int cpuSeq) {
}
