package dev.panbpf.samples.compare;

/**
 * Result is what one buffer achieved in its phase of {@code compare}.
 *
 * @param buffer      the buffer's name
 * @param seconds     how long producers ran
 * @param produced    records the BPF program tried to send
 * @param delivered   records that reached Java
 * @param lost        records the kernel could not store (ring reserve failures, perf LOST records)
 * @param outOfOrder  records that arrived after a record with a higher sequence number
 * @param memoryBytes bytes of kernel memory the buffer pins (data plus control pages)
 */
record Result(String buffer, double seconds, long produced, long delivered, long lost, long outOfOrder,
              long memoryBytes) {
    /** Delivered records per second. */
    double perSecond() {
        return seconds <= 0 ? 0 : delivered / seconds;
    }
}
