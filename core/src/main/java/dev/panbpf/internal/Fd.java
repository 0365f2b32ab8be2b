package dev.panbpf.internal;

import dev.panbpf.BpfException;

import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

/**
 * Fd owns one file descriptor and closes it exactly once, whichever thread closes first. A borrowed Fd (one that
 * libbpf owns) only marks itself closed, so that nobody uses the number after its real owner closed it.
 *
 * <p>A syscall that takes the number goes through {@link #acquire()}/{@link #release()}: {@link #close()} waits
 * until no such call is in progress before the number is freed. Without that, a close on another thread between
 * reading the number and making the call lets the kernel reuse the number for a new map, and the call acts on
 * the wrong object (an update written into a stranger's map).
 */
public final class Fd implements AutoCloseable {
    private final int fd;
    private final String what;
    private final boolean owned;
    private final AtomicBoolean closed = new AtomicBoolean();
    /** Calls between acquire and release. */
    private final AtomicInteger users = new AtomicInteger();
    private static final long CLOSE_WAIT_NANOS = 10_000_000_000L;

    /** Takes ownership of {@code fd}; {@code what} names it in errors ("ring buffer map 'events'"). */
    public Fd(int fd, String what) {
        this(fd, what, true);
    }

    private Fd(int fd, String what, boolean owned) {
        if (fd < 0) {
            throw new IllegalArgumentException("not a file descriptor: " + fd);
        }
        this.fd = fd;
        this.what = what;
        this.owned = owned;
    }

    /** Wraps an fd owned by someone else: {@link #close()} marks it closed without closing the descriptor. */
    public static Fd borrowed(int fd, String what) {
        return new Fd(fd, what, false);
    }

    /** The descriptor; throws if it was closed, so a closed fd number is never reused by mistake. */
    public int get() {
        if (closed.get()) {
            throw new BpfException(what + " is closed; open it again");
        }
        return fd;
    }

    /**
     * The descriptor, held open until {@link #release()}: for a syscall that must act on this object and no
     * other. Throws if it was closed.
     */
    public int acquire() {
        users.incrementAndGet();
        if (closed.get()) {           // close() set closed before waiting for users: it cannot miss us
            users.decrementAndGet();
            throw new BpfException(what + " is closed; open it again");
        }
        return fd;
    }

    /** Ends a use begun with {@link #acquire()}. */
    public void release() {
        users.decrementAndGet();
    }

    /** Whether {@link #close()} has run. */
    public boolean isClosed() {
        return closed.get();
    }

    /** What this fd is, for messages. */
    public String what() {
        return what;
    }

    /**
     * Closes the descriptor (or, if borrowed, marks it closed) once no acquired call is in progress. Such calls
     * are single syscalls, so this waits them out, but not past 10 s (a test run with a huge repeat count): then
     * it throws and the number stays open, which leaks it but never hands it to someone else early.
     */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        long start = System.nanoTime();
        boolean interrupted = false;
        try {
            while (users.get() != 0) {
                if (System.nanoTime() - start > CLOSE_WAIT_NANOS) {
                    throw new BpfException(what + " is still in use by a call on another thread after 10 s; it "
                            + "was marked closed but its descriptor stays open until the process ends");
                }
                interrupted |= Thread.interrupted();   // an interrupted park returns at once: set the flag aside
                LockSupport.parkNanos(20_000);
            }
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
        if (owned) {
            Sys.close(fd);
        }
    }

    @Override
    public String toString() {
        return what + " (fd " + fd + (closed.get() ? ", closed)" : ")");
    }
}
