package dev.panbpf.internal;

import dev.panbpf.BpfException;

import java.util.concurrent.atomic.AtomicBoolean;

/** Fd owns one file descriptor and closes it exactly once, whichever thread closes first. */
public final class Fd implements AutoCloseable {
    private final int fd;
    private final String what;
    private final AtomicBoolean closed = new AtomicBoolean();

    /** Takes ownership of {@code fd}; {@code what} names it in errors ("ring buffer map 'events'"). */
    public Fd(int fd, String what) {
        if (fd < 0) {
            throw new IllegalArgumentException("not a file descriptor: " + fd);
        }
        this.fd = fd;
        this.what = what;
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
        if (closed.compareAndSet(false, true)) {
            Sys.close(fd);
        }
    }

    @Override
    public String toString() {
        return what + " (fd " + fd + (closed.get() ? ", closed)" : ")");
    }
}
