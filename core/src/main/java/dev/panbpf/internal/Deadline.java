package dev.panbpf.internal;

import java.time.Duration;

/**
 * Deadline turns a caller's {@link Duration} timeout into a {@link System#nanoTime()} instant and back into the
 * milliseconds epoll_wait takes, without allocating, so blocking calls can loop until their time is up. Every
 * reader converts its timeouts here, so they all accept the same values (any non-negative Duration, up to
 * {@code Duration.ofSeconds(Long.MAX_VALUE)}, which waits without a limit).
 */
public final class Deadline {
    private Deadline() { }

    /** NEVER is the deadline of a timeout too long to matter (a century or more): wait without a limit. */
    public static final long NEVER = Long.MAX_VALUE;
    private static final Duration CENTURY = Duration.ofDays(36_525);

    /** The nanoTime instant {@code timeout} from now; refuses negative timeouts. */
    public static long after(Duration timeout) {
        if (timeout.isNegative()) {
            throw new IllegalArgumentException("timeout " + timeout + " is negative; use Duration.ZERO not to wait");
        }
        if (timeout.compareTo(CENTURY) >= 0) {
            return NEVER;
        }
        long at = System.nanoTime() + timeout.toNanos();   // nanoTime instants are compared by difference
        return at == NEVER ? NEVER - 1 : at;
    }

    /**
     * Milliseconds left until {@code deadline} for epoll_wait: -1 (no limit) for {@link #NEVER}, 0 once passed,
     * otherwise rounded up so that the wait does not end just before the deadline and spin.
     */
    public static int millisLeft(long deadline) {
        if (deadline == NEVER) {
            return -1;
        }
        long left = deadline - System.nanoTime();
        if (left <= 0) {
            return 0;
        }
        return (int) Math.min(Integer.MAX_VALUE, (left + 999_999) / 1_000_000);
    }

    /**
     * {@code d} in nanoseconds, saturated at {@link Long#MAX_VALUE} instead of overflowing (for windows and
     * intervals rather than deadlines); refuses negative durations, naming {@code what}.
     */
    public static long nanos(Duration d, String what) {
        if (d.isNegative()) {
            throw new IllegalArgumentException(what + " " + d + " is negative");
        }
        return d.compareTo(CENTURY) >= 0 ? Long.MAX_VALUE : d.toNanos();
    }

    /** Whether {@code deadline} has passed. */
    public static boolean passed(long deadline) {
        return deadline != NEVER && deadline - System.nanoTime() <= 0;
    }
}
