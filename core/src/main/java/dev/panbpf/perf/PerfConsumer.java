package dev.panbpf.perf;

import dev.panbpf.bindings.sys_epoll_h;
import dev.panbpf.internal.ConsumerGate;
import dev.panbpf.internal.Deadline;
import dev.panbpf.internal.Epoll;

import java.lang.invoke.VarHandle;

/**
 * PerfConsumer is the reading half of a perf buffer: it waits on the per-CPU events' epoll and reads the rings
 * that signalled. Its owner admits the consumer through the gate; this class only runs the loops.
 *
 * <p>The kernel reports a ring's readiness once per wakeup, not for as long as it holds data. So a ring that
 * epoll reported stays <em>pending</em> until it has been read to its end: when a handler throws (or a sample
 * contradicts the options) the exception leaves at once, and the next poll reads the pending rings, the one that
 * threw first among them in CPU order, before it waits. Nothing that was signalled waits for a signal that will
 * not come.
 */
public final class PerfConsumer {
    private static final int HANG_UP = sys_epoll_h.EPOLLERR() | sys_epoll_h.EPOLLHUP();

    private final PerfCpuSet set;
    private final Epoll epoll;
    private final ConsumerGate gate;
    private final PerfBuffer.LostHandler onLost;
    /** Per ring: reported ready by epoll and not yet read to its end. Consumer thread only. */
    private final boolean[] pending;
    private int pendingCount;

    /**
     * A consumer of {@code set}'s rings, registered on {@code epoll} with their index as tag.
     *
     * @param set the rings
     * @param epoll their epoll, with the wakeup eventfd
     * @param gate the owner's gate: reading stops once it closes
     * @param onLost told of LOST records, or null
     */
    public PerfConsumer(PerfCpuSet set, Epoll epoll, ConsumerGate gate, PerfBuffer.LostHandler onLost) {
        this.set = set;
        this.epoll = epoll;
        this.gate = gate;
        this.onLost = onLost;
        this.pending = new boolean[set.size()];
    }

    /**
     * Reads the pending rings; if that delivered nothing, waits until {@code deadline} ({@link Deadline}) for a
     * ring to signal and reads it, again until something was delivered, {@link Epoll#wakeup()} or a close ended
     * the wait, or the deadline passed. An interrupted or empty wait is simply waited again.
     *
     * @param handler receives each sample
     * @param deadline a {@link Deadline#after} instant, or {@link Deadline#NEVER}
     * @return the samples delivered
     */
    public int poll(PerfBuffer.Handler handler, long deadline) {
        boolean waited = false;
        boolean stop = false;
        while (true) {
            int n = readPending(handler);
            if (n > 0 || stop || gate.isClosed() || (waited && Deadline.passed(deadline))) {
                return n;
            }
            // Our data_tail stores must be visible before we sleep, so that a kernel waiting for room sees them.
            VarHandle.fullFence();
            int ready = epoll.await(Deadline.millisLeft(deadline));
            waited = true;
            for (int i = 0; i < ready; i++) {
                long tag = epoll.tag(i);
                if (tag == Epoll.WAKEUP_TAG) {
                    stop = true;
                } else {
                    markPending((int) tag);
                    // An event the kernel hung up stays ready for ever: return rather than spin here.
                    stop |= (epoll.readyEvents(i) & HANG_UP) != 0;
                }
            }
        }
    }

    /**
     * Waits until {@code deadline} for a ring to signal, reading nothing (the caller reads every ring itself);
     * returns whether one did. One wait: an interrupted one returns false early.
     *
     * @param deadline a {@link Deadline#after} instant, or {@link Deadline#NEVER}
     * @return whether a ring signalled
     */
    public boolean await(long deadline) {
        VarHandle.fullFence();  // as in poll
        int ready = epoll.await(Deadline.millisLeft(deadline));
        boolean signalled = false;
        for (int i = 0; i < ready; i++) {
            signalled |= epoll.tag(i) != Epoll.WAKEUP_TAG;
        }
        return signalled;
    }

    /**
     * Reads every ring to its end without waiting, stopping once the gate closes.
     *
     * @param handler receives each sample
     * @return the samples delivered
     */
    public int consumeAll(PerfBuffer.Handler handler) {
        int n = 0;
        for (int i = 0; i < set.size() && !gate.isClosedPlain(); i++) {
            n += consume(i, handler);
        }
        return n;
    }

    /**
     * Reads one ring to its end without waiting.
     *
     * @param index the ring's index in the set
     * @param handler receives each sample
     * @return the samples delivered
     */
    public int consume(int index, PerfBuffer.Handler handler) {
        int n = set.ring(index).read(handler, onLost, gate);
        clearPending(index);
        return n;
    }

    private int readPending(PerfBuffer.Handler handler) {
        int n = 0;
        for (int i = 0; pendingCount > 0 && i < pending.length && !gate.isClosedPlain(); i++) {
            if (pending[i]) {
                n += consume(i, handler);  // if it throws, this ring and the ones after it stay pending
            }
        }
        return n;
    }

    private void markPending(int index) {
        if (!pending[index]) {
            pending[index] = true;
            pendingCount++;
        }
    }

    private void clearPending(int index) {
        if (pending[index]) {
            pending[index] = false;
            pendingCount--;
        }
    }
}
