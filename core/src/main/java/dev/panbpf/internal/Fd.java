package dev.panbpf.internal;

import dev.panbpf.BpfException;

import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Fd owns one file descriptor and closes it exactly once, whichever thread closes first. A borrowed Fd (one that
 * libbpf owns) only marks itself closed, so that nobody uses the number after its real owner closed it.
 */
public final class Fd implements AutoCloseable {
    private final int fd;
    private final String what;
    private final boolean owned;
    private final AtomicBoolean closed = new AtomicBoolean();

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

    /** Whether {@link #close()} has run. */
    public boolean isClosed() {
        return closed.get();
    }

    /** What this fd is, for messages. */
    public String what() {
        return what;
    }

    @Override
    public void close() {
        if (closed.compareAndSet(false, true) && owned) {
            Sys.close(fd);
        }
    }

    @Override
    public String toString() {
        return what + " (fd " + fd + (closed.get() ? ", closed)" : ")");
    }
}
