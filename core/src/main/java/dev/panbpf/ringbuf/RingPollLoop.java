package dev.panbpf.ringbuf;

import dev.panbpf.internal.BatchDelay;
import dev.panbpf.internal.ConsumerGate;
import dev.panbpf.internal.Deadline;
import dev.panbpf.internal.Epoll;

/**
 * RingPollLoop is the waiting half of a ring consumer's {@code poll}, for one ring or several: run a pass; if it
 * delivered nothing, sleep the way the rings' state allows (epoll when all are empty, {@link BusyBackoff} when a
 * head record is still BUSY, not at all when records arrived meanwhile) and try again, until records come, the
 * deadline passes, a wakeup arrives, the thread is interrupted (its status stays set) or the reader closes. With a
 * {@link BatchDelay} set, a poll after one that delivered first lets records gather for that long.
 *
 * <p>The pass is an argument rather than part of the loop so that a one-ring reader passes a plain drain of its
 * ring, and the record path never goes through the round robin of several rings.
 */
final class RingPollLoop {
    /** Pass is one pass over the ring(s): it delivers what is there and returns how many records it handed out. */
    @FunctionalInterface
    interface Pass {
        int run(RecordHandler handler);
    }

    private final RingReader[] readers;
    private final ConsumerGate gate;
    private final Epoll epoll;
    private final BusyBackoff backoff = new BusyBackoff();
    private final BatchDelay batch = new BatchDelay();

    /** A loop over {@code readers}, all registered with {@code epoll}, that ends when {@code gate} closes. */
    RingPollLoop(RingReader[] readers, ConsumerGate gate, Epoll epoll) {
        this.readers = readers.clone();
        this.gate = gate;
        this.epoll = epoll;
    }

    /** The pass of one ring read as a whole: all it holds, to the handler of the call. */
    static Pass whole(RingReader reader) {
        return handler -> reader.drain(handler, Integer.MAX_VALUE);
    }

    /**
     * Runs {@code pass} with {@code handler} until it delivers something or {@code deadline} ({@link Deadline})
     * passes; the caller has entered the gate.
     */
    int poll(Pass pass, RecordHandler handler, long deadline) {
        backoff.reset();
        int n;
        if (batch.await(deadline, epoll)) {
            n = gate.isClosed() ? 0 : pass.run(handler);    // woken in the delay: what gathered, without waiting
        } else {
            n = loop(pass, handler, deadline);
        }
        batch.ended(n);
        return n;
    }

    /** The reader's batch delay (see EventReader#batchDelay). */
    BatchDelay batch() {
        return batch;
    }

    private int loop(Pass pass, RecordHandler handler, long deadline) {
        while (true) {
            int n = pass.run(handler);
            if (n > 0 || gate.isClosed() || Deadline.passed(deadline)) {
                return n;
            }
            switch (readiness()) {
                case RingReader.EMPTY -> {
                    if (epoll.awaitWokenUp(deadline)) {
                        return 0;
                    }
                }
                case RingReader.HEAD_BUSY -> {
                    if (!backoff.pause(deadline, epoll)) {
                        return 0;
                    }
                }
                default -> { }          // records arrived (or the pass only skipped discarded ones): read again
            }
        }
    }

    /** WORK if any ring has records to read, else HEAD_BUSY if any head record is BUSY, else EMPTY. */
    private int readiness() {
        int all = RingReader.EMPTY;
        for (RingReader r : readers) {
            int one = r.readiness();
            if (one == RingReader.WORK) {
                return RingReader.WORK;
            }
            all = Math.max(all, one);
        }
        return all;
    }

    /** How many times a poll slept because a head record was still BUSY. */
    long busyWaits() {
        return backoff.count();
    }
}
