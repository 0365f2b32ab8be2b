package dev.panbpf.internal;

import dev.panbpf.BpfException;

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
    private volatile Thread owner;

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
     * Enters as the consumer. Returns false when the gate is closed; throws when another thread is consuming,
     * because two consumers would corrupt the consumer position.
     */
    public boolean enter() {
        while (true) {
            int s = state.get();
            if ((s & CLOSED) != 0) {
                return false;
            }
            if ((s & ACTIVE) != 0) {
                Thread t = owner;
                throw new BpfException(what + " " + busy + (t == null ? "" : " (thread '" + t.getName() + "')")
                        + "; " + advice);
            }
            if (state.compareAndSet(s, s | ACTIVE)) {
                owner = Thread.currentThread();
                return true;
            }
        }
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
