package dev.panbpf.perf;

import dev.panbpf.bindings.sys_epoll_h;
import dev.panbpf.internal.Deadline;
import dev.panbpf.internal.Epoll;

import java.lang.invoke.VarHandle;

/**
 * PerfWait is the waiting half of both perf readers: it sleeps on the epoll that watches the CPUs' events (each
 * registered with its ring's index as tag) and remembers which rings signalled.
 *
 * <p>The kernel reports a ring's readiness once per wakeup, not for as long as it holds data. So a ring that
 * epoll reported stays <em>pending</em> until a reader has read it to its end: a reader that stopped early (a
 * handler returned false or threw) reads the pending rings again before it waits, and nothing that was signalled
 * waits for a signal that will not come. Consumer thread only.
 */
final class PerfWait {
    /** {@link #await} results. */
    static final int TIMED_OUT = 0;
    static final int SIGNALLED = 1;
    /**
     * A wakeup, a close, an interrupt of the waiting thread (its status stays set), or an event the kernel hung
     * up (it would stay ready for ever): return, do not spin.
     */
    static final int WOKEN = 2;
    private static final int HANG_UP = sys_epoll_h.EPOLLERR() | sys_epoll_h.EPOLLHUP();

    private final Epoll epoll;
    private final boolean[] pending;

    PerfWait(Epoll epoll, int rings) {
        this.epoll = epoll;
        this.pending = new boolean[rings];
    }

    /**
     * Waits until {@code deadline} ({@link Deadline}) for a ring to signal or a wakeup, marks the rings that
     * signalled pending, and says what ended the wait. An interrupted thread does not wait (it only collects what
     * has signalled) and gets WOKEN.
     */
    int await(long deadline) {
        // Our data_tail stores must be visible before we sleep, so that a kernel waiting for room sees them.
        VarHandle.fullFence();
        int ready = epoll.await(Deadline.millisLeft(deadline));
        int result = TIMED_OUT;
        for (int i = 0; i < ready; i++) {
            long tag = epoll.tag(i);
            if (tag == Epoll.WAKEUP_TAG || (epoll.readyEvents(i) & HANG_UP) != 0) {
                result = WOKEN;
            } else if (result == TIMED_OUT) {
                result = SIGNALLED;
            }
            if (tag != Epoll.WAKEUP_TAG) {
                pending[(int) tag] = true;
            }
        }
        if (epoll.mayHaveMissedSources()) {
            // a virtual thread's wait: a ring's signal may have been consumed on the way (see Epoll), so every
            // ring counts as signalled; reading a ring with nothing new costs a look at its header
            java.util.Arrays.fill(pending, true);
            result = result == TIMED_OUT ? SIGNALLED : result;
        }
        return Thread.currentThread().isInterrupted() ? WOKEN : result;
    }

    /** Whether ring {@code index} signalled and has not been read to its end since. */
    boolean isPending(int index) {
        return pending[index];
    }

    /** Ring {@code index} was read to its end. */
    void done(int index) {
        pending[index] = false;
    }
}
