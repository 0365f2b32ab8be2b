package dev.panbpf.internal;

import java.time.Duration;

/**
 * BatchDelay is a reader's batching under load (EventReader#batchDelay): when the last poll delivered events, the
 * next one first sleeps until the delay has passed since that poll ended, without watching the buffer, so the
 * events written meanwhile are read in one pass instead of one wakeup each burst. A poll after one that delivered
 * nothing does not sleep here: an idle reader waits on the kernel's wakeup as before, and the first event after a
 * quiet spell is not held back.
 *
 * <p>The saving is the wakeups: on the machines measured a consumer's wakeup costs 5 to 15 µs of its CPU, the
 * same from Java as from C, so fewer of them is the one way to spend less CPU per event. The sleep is
 * {@link Epoll#sleep}, so a wakeup, a close or an interrupt still ends it at once.
 *
 * <p>The delay is set from any thread and read once per poll; the rest is the consumer thread's.
 */
public final class BatchDelay {
    private volatile long nanos;
    private volatile Duration delay = Duration.ZERO;    // as set, for get(): nanos saturates at about 292 years
    private boolean delivered;
    private long lastEnd;

    /** Sets the delay; Duration.ZERO turns batching off. Refuses negative ones, naming the reader. */
    public void set(Duration delay, String reader) {
        if (delay.isNegative()) {
            throw new IllegalArgumentException("batch delay " + delay + " of " + reader
                    + " is negative; use Duration.ZERO to read as soon as the kernel wakes the reader");
        }
        long n = Deadline.nanos(delay, "batch delay");
        this.delay = delay;     // (a racing get() may see one before the other: each is a value that was set)
        nanos = n;
    }

    /** The delay now. */
    public Duration get() {
        return delay;
    }

    /**
     * Before a poll's first pass: sleeps until the delay has passed since the last delivering poll ended, but not
     * past {@code deadline}. Returns true when a wakeup, a close or an interrupt ended the sleep (or came before
     * it): the poll then makes one pass, without waiting, and returns what it delivered.
     */
    public boolean await(long deadline, Epoll epoll) {
        long delay = nanos;
        if (delay == 0 || !delivered) {
            return false;
        }
        long now = System.nanoTime();
        long left = delay - (now - lastEnd);       // no overflow: the elapsed time is not negative
        if (deadline != Deadline.NEVER) {
            left = Math.min(left, deadline - now);
        }
        return left > 0 && epoll.sleep(left);
    }

    /** After a poll that handed out {@code n} events: starts the next delay when there were any. */
    public void ended(int n) {
        delivered = n > 0;
        if (delivered && nanos != 0) {
            lastEnd = System.nanoTime();
        }
    }
}
