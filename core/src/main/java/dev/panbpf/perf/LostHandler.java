package dev.panbpf.perf;

/**
 * LostHandler hears that the kernel dropped {@code count} events on {@code cpu} because its ring was full. It is
 * set with {@link PerfOptions#onLost} and called by either perf reader, on the consuming thread.
 */
@FunctionalInterface
public interface LostHandler {
    /**
     * Called once per LOST record the kernel wrote.
     *
     * @param cpu the CPU whose ring was full
     * @param count how many events the kernel could not write
     */
    void onLost(int cpu, long count);
}
