package dev.panbpf.ringbuf;

import dev.panbpf.internal.ConsumerGate;
import dev.panbpf.internal.Deadline;
import dev.panbpf.internal.Epoll;

/**
 * RingPollLoop is the waiting half of a ring consumer's {@code poll}, shared by {@link RingBuffer} and
 * {@link RingBufferPoller}: run a pass; if it delivered nothing, sleep the way the rings' state allows (epoll when
 * empty, {@link BusyBackoff} when a head record is still BUSY, not at all when records arrived meanwhile) and try
 * again, until records come, the deadline passes, a wakeup arrives or the reader closes.
 */
abstract class RingPollLoop {
    private final ConsumerGate gate;
    private final Epoll epoll;
    private final BusyBackoff backoff = new BusyBackoff();

    RingPollLoop(ConsumerGate gate, Epoll epoll) {
        this.gate = gate;
        this.epoll = epoll;
    }

    /** The loop of one ring: a pass drains it whole. */
    static RingPollLoop over(RingReader reader, ConsumerGate gate, Epoll epoll) {
        return new RingPollLoop(gate, epoll) {
            @Override
            int pass(RecordHandler handler) {
                return reader.drain(handler, Integer.MAX_VALUE);
            }

            @Override
            int readiness() {
                return reader.readiness();
            }
        };
    }

    /** One pass over the ring(s): delivers what is there and returns how many records went to handlers. */
    abstract int pass(RecordHandler handler);

    /** {@link RingReader#WORK}, {@link RingReader#HEAD_BUSY} or {@link RingReader#EMPTY}, over all rings. */
    abstract int readiness();

    /** Polls until {@code deadline} ({@link Deadline}); the caller has entered the gate. */
    final int poll(RecordHandler handler, long deadline) {
        backoff.reset();
        try {
            return loop(handler, deadline);
        } finally {
            backoff.restoreInterrupt();
        }
    }

    private int loop(RecordHandler handler, long deadline) {
        while (true) {
            int n = pass(handler);
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

    /** How many times a poll slept because a head record was still BUSY. */
    final long busyWaits() {
        return backoff.count();
    }

    /** The readiness of several rings: WORK if any has work, else HEAD_BUSY if any head is busy, else EMPTY. */
    static int combine(int a, int b) {
        return a == RingReader.WORK || b == RingReader.WORK ? RingReader.WORK : Math.max(a, b);
    }
}
