package dev.panbpf.ringbuf;

import dev.panbpf.internal.Deadline;
import dev.panbpf.internal.Epoll;

/**
 * BusyBackoff is how a ring consumer waits while the record at its position is still BUSY (reserved, not yet
 * committed). epoll cannot help there: the kernel reports a ring readable for as long as producer_pos differs
 * from consumer_pos, so an epoll wait returns at once and a poll loop would spin on the CPU. Instead the
 * consumer sleeps ({@link Epoll#sleep}, which a wakeup, a close or an interrupt ends), 20 µs at first and twice
 * as long each time up to 4 ms, never past its deadline. A producer normally commits within microseconds, so the
 * first sleep nearly always suffices; a program that never commits costs a few hundred wakeups a second, not a core.
 *
 * <p>An interrupt ends the wait like a wakeup, and the interrupt status stays set for the caller.
 */
final class BusyBackoff {
    private static final long FIRST_NANOS = 20_000;
    private static final long MAX_NANOS = 4_000_000;

    private long next = FIRST_NANOS;
    private long count;

    /** Starts over at the shortest sleep: call when a record was delivered. */
    void reset() {
        next = FIRST_NANOS;
    }

    /**
     * Sleeps once, at most until {@code deadline} ({@link Deadline}); returns false when {@code epoll} was woken
     * up or the thread interrupted meanwhile (the caller returns), true to look at the ring again.
     */
    boolean pause(long deadline, Epoll epoll) {
        count++;
        long sleep = next;
        if (deadline != Deadline.NEVER) {
            sleep = Math.min(sleep, Math.max(0, deadline - System.nanoTime()));
        }
        next = Math.min(MAX_NANOS, next * 2);
        if (sleep > 0) {
            return !epoll.sleep(sleep);
        }
        return !epoll.takeWakeup() && !Thread.currentThread().isInterrupted();
    }

    /** How many times a consumer slept here so far (consumer thread; racy but harmless from others). */
    long count() {
        return count;
    }
}
