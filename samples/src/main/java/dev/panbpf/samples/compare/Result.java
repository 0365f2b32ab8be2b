package dev.panbpf.samples.compare;

/**
 * Result is what one buffer achieved in its part of {@code compare}, warm-up excluded.
 *
 * @param buffer      the buffer
 * @param seconds     how long producers ran while counting
 * @param produced    records the BPF program tried to send
 * @param delivered   records that reached Java
 * @param lost        records the kernel could not store (ring reserve failures, perf LOST records)
 * @param lostEarly   of {@code lost}, those lost in the first {@link Half#EARLY} of counting
 * @param outOfOrder  records that arrived after a record with a higher sequence number
 * @param memoryBytes bytes of kernel memory the buffer pins (data plus control pages)
 */
record Result(Buffer buffer, double seconds, long produced, long delivered, long lost, long lostEarly,
              long outOfOrder, long memoryBytes) implements Row {
    /** Delivered records per second. */
    double perSecond() {
        return seconds <= 0 ? 0 : delivered / seconds;
    }

    /** Lost records as a percentage of those produced (0 when nothing was produced). */
    double lossPercent() {
        return produced == 0 ? 0 : 100.0 * lost / produced;
    }
}
