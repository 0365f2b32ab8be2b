package dev.panbpf;

import java.time.Duration;

/**
 * EventReader is the contract every panbpf buffer reader keeps (ring buffer, ring buffer poller, perf buffer,
 * ordered perf buffer), whatever its handler looks like:
 * <ul>
 *   <li>one thread consumes at a time; a second concurrent consumer, or a consume or poll call from inside a
 *       handler, is refused with an exception naming the reader;</li>
 *   <li>a handler stops early by returning false: the call that delivered that event returns after it, and the
 *       events behind it stay for the next call;</li>
 *   <li>a timeout of {@code Duration.ZERO} never waits, a negative one is refused, and a huge one waits as long as
 *       it takes;</li>
 *   <li>{@link #wakeup()} and {@link #close()} may come from any thread; a poll blocked in the kernel when either
 *       comes returns promptly; after close every consume, poll or flush throws {@link BufferClosedException},
 *       while the counters and {@link #isClosed()} still answer;</li>
 *   <li>{@link Thread#interrupt()} of the polling thread, virtual or platform, ends a blocked poll too: it returns
 *       what it delivered (0 if nothing) without throwing, and the interrupt status stays set. A poll that starts
 *       interrupted does not wait: it delivers what is there already and returns. A platform thread notices an
 *       interrupt within about 50 ms (its wait is a native epoll_wait, in slices);</li>
 *   <li>a poll on a virtual thread parks that thread, not its carrier: other virtual threads run meanwhile.</li>
 * </ul>
 */
public interface EventReader extends AutoCloseable {
    /**
     * The number of events handed to a handler since the reader opened.
     *
     * @return the count
     */
    long delivered();

    /**
     * The number of events the kernel reported it could not store for this reader (perf LOST records). A ring
     * buffer producer learns of a full ring when its reservation fails, so ring readers report 0.
     *
     * @return the count
     */
    long lost();

    /**
     * The number of events that had reached the reader (read, held, or in a perf ring it owned) and were never
     * delivered because it closed. Records left in a ring buffer stay in the map, so ring readers report 0.
     *
     * @return the count
     */
    long droppedAtClose();

    /** Makes a poll that is waiting return at once, or the next one that would wait return without waiting. */
    void wakeup();

    /**
     * Lets events gather while they keep coming, to spend less CPU per event: a poll that follows one which
     * delivered events first sleeps until {@code delay} has passed since that poll returned (not past its own
     * timeout), without watching the buffer, then reads everything that arrived meanwhile in one pass. A poll
     * after one that delivered nothing does not sleep: an idle reader waits on the kernel's wakeup as before, and
     * the first event after a quiet spell is read as soon as the kernel wakes the reader.
     *
     * <p>What it saves is wakeups. A wakeup costs the consumer several microseconds of CPU (the same from Java as
     * from C), far more than reading an event, so under load a reader woken once per burst of events pays mostly
     * for the wakeups; with a delay longer than the time between bursts it is woken once per delay. What it costs:
     * an event may wait up to {@code delay} (plus the system's timer slack, 50 µs by default on Linux) longer
     * before its handler sees it, and the buffer must hold what the producers write in {@code delay}, or they lose
     * events (counted as always). A wakeup or an interrupt ends the sleep at once, and the poll returns what
     * gathered without waiting further; a close ends it and the poll returns 0. {@code consume} and
     * polls with {@code Duration.ZERO} never sleep for it.
     *
     * @param delay how long events may gather under load; {@code Duration.ZERO} (the default) reads as soon as the
     *        kernel wakes the reader
     * @throws IllegalArgumentException if {@code delay} is negative
     */
    void batchDelay(Duration delay);

    /**
     * The delay set with {@link #batchDelay(Duration)}.
     *
     * @return the delay, {@code Duration.ZERO} by default
     */
    Duration batchDelay();

    /**
     * Whether {@link #close()} was called.
     *
     * @return true after close
     */
    boolean isClosed();

    /** Releases the reader's fds and mappings once no consumer is inside; idempotent; never throws. */
    @Override
    void close();
}
