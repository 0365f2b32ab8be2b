package dev.panbpf.internal;

import dev.panbpf.BpfException;
import dev.panbpf.BufferClosedException;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * ConsumerGate admits one consumer at a time and defers the release of resources until nobody is inside:
 * {@link #close()} from another thread marks the gate closed, and whichever of the closer or the last consumer
 * leaves the gate closed and empty runs the release action, exactly once.
 */
public final class ConsumerGate {
    private static final int ACTIVE = 1;
    private static final int CLOSED = 2;

    private final AtomicInteger state = new AtomicInteger();
    private final String what;
    private final String busy;
    private final String advice;
    private final Runnable release;
    /**
     * The consumer inside, for the refusal message only. Deliberately not volatile: consumers enter and leave on
     * every consume call, and a volatile store costs a full fence each time; a racing reader that sees a stale
     * value just names the wrong thread or none. The state CAS is what admits consumers.
     */
    private Thread owner;

    /** A gate for {@code what} (for messages) that runs {@code release} once closed and empty. */
    public ConsumerGate(String what, Runnable release) {
        this(what, "already has a consumer", "one thread at a time may consume, so hand the records to other "
                + "threads from the handler instead", release);
    }

    /**
     * A gate whose refusal reads "{@code what} {@code busy} (thread 'x'); {@code advice}", for users of the gate
     * that are not consumers (a user ring buffer's producer).
     */
    public ConsumerGate(String what, String busy, String advice, Runnable release) {
        this.what = what;
        this.busy = busy;
        this.advice = advice;
        this.release = release;
    }

    /**
     * Enters as the consumer. Throws {@link BufferClosedException} when the gate is closed, and a
     * {@link BpfException} when a consumer is inside already (two consumers would corrupt the consumer
     * position), saying so plainly when that consumer is the caller itself: a handler calling back in.
     */
    public void enter() {
        while (true) {
            int s = state.get();
            if ((s & CLOSED) != 0) {
                throw new BufferClosedException(what);
            }
            if ((s & ACTIVE) != 0) {
                Thread t = owner;
                if (t == Thread.currentThread()) {
                    throw new BpfException(what + ": re-entrant call from inside a handler on this thread ('"
                            + t.getName() + "'); a handler must not consume, poll or flush the buffer that "
                            + "called it. Return false (or stop) from the handler and call again afterwards");
                }
                throw new BpfException(what + " " + busy + (t == null ? "" : " (thread '" + t.getName() + "')")
                        + "; " + advice);
            }
            if (state.compareAndSet(s, s | ACTIVE)) {
                owner = Thread.currentThread();
                return;
            }
        }
    }

    /** Throws {@link BufferClosedException} if {@link #close()} was called. */
    public void checkOpen() {
        if (isClosed()) {
            throw new BufferClosedException(what);
        }
    }

    /**
     * Runs a query that reads the shared mapping from any thread. A close racing it may unmap the memory under
     * it (the arena's liveness check throws IllegalStateException, never a fault): that becomes the same
     * {@link BufferClosedException} as any call after close.
     */
    public long query(java.util.function.LongSupplier read) {
        checkOpen();
        try {
            return read.getAsLong();
        } catch (IllegalStateException e) {
            if (isClosed()) {
                throw new BufferClosedException(what);
            }
            throw e;
        }
    }

    /**
     * Whether close() was called, read without ordering: cheap enough for a consumer to ask after every record
     * (a handler that closes its own buffer runs on the consumer thread, so it sees its own write).
     */
    public boolean isClosedPlain() {
        return (state.getPlain() & CLOSED) != 0;
    }

    /** Whether the calling thread is the consumer inside the gate (a handler closing its own buffer). */
    public boolean isConsumerThread() {
        return owner == Thread.currentThread();
    }

    /** Leaves; releases the resources if the gate was closed meanwhile. */
    public void exit() {
        owner = null;
        int before = state.getAndUpdate(s -> s & ~ACTIVE);
        if ((before & CLOSED) != 0) {
            release.run();
        }
    }

    /** Whether {@link #close()} was called. */
    public boolean isClosed() {
        return (state.get() & CLOSED) != 0;
    }

    /** Closes; returns true if a consumer is inside and will release on its way out (the caller should wake it). */
    public boolean close() {
        int before = state.getAndUpdate(s -> s | CLOSED);
        if ((before & CLOSED) != 0) {
            return false;
        }
        if ((before & ACTIVE) == 0) {
            release.run();
            return false;
        }
        return true;
    }
}
