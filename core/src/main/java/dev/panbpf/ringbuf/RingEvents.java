package dev.panbpf.ringbuf;

import dev.panbpf.internal.ConsumerPassEvent;
import dev.panbpf.internal.RingDiscardedEvent;

/**
 * RingEvents reports a ring consumer's passes to JDK Flight Recorder: each ring's discarded records
 * ({@link RingDiscardedEvent}) and the pass itself ({@link ConsumerPassEvent}). The counts are the growth of the
 * readers' own counters across the pass, which change only during passes, so the events of a recording that
 * spans the reader's life add up to its counters exactly. Nothing is read or allocated while no recording takes
 * these events; nothing is done per record. Used by the consuming thread only (inside the gate).
 */
final class RingEvents {
    private final String reader;
    private final String[] maps;
    private final String allMaps;
    private final RingReader[] readers;
    private final long[] discardedBefore;
    /** The pass of a poll wrapped so that each run is reported (runs only while events are on). */
    private final Reported reported = new Reported();
    private long deliveredBefore;
    /** Whether a pass is being observed, and its timing (null when the pass event is off). */
    private boolean active;
    private boolean discards;
    private ConsumerPassEvent pass;

    RingEvents(String reader, String[] maps, RingReader[] readers) {
        this.reader = reader;
        this.maps = maps;
        this.allMaps = String.join(",", maps);
        this.readers = readers;
        this.discardedBefore = new long[readers.length];
    }

    /** Whether a recording takes any of these events now. */
    static boolean wanted() {
        return ConsumerPassEvent.on() || RingDiscardedEvent.on();
    }

    /** {@code pass} as the poll loop should run it: reported while events are wanted, else as it is. */
    RingPollLoop.Pass observe(RingPollLoop.Pass pass) {
        if (!wanted()) {
            return pass;
        }
        reported.inner = pass;
        return reported;
    }

    /** Takes the counters before a pass; does nothing when no recording takes these events. */
    void begin() {
        boolean timed = ConsumerPassEvent.on();
        discards = RingDiscardedEvent.on();
        active = timed || discards;
        if (!active) {
            return;
        }
        long delivered = 0;
        for (int i = 0; i < readers.length; i++) {
            discardedBefore[i] = readers[i].discarded();
            delivered += readers[i].delivered();
        }
        deliveredBefore = delivered;
        pass = timed ? ConsumerPassEvent.start() : null;
    }

    /** Reports the pass begun last, also when its handler threw. */
    void end() {
        if (!active) {
            return;
        }
        active = false;
        long delivered = 0;
        for (int i = 0; i < readers.length; i++) {
            long now = readers[i].discarded();
            if (discards && now != discardedBefore[i]) {
                RingDiscardedEvent.emit(maps[i], now - discardedBefore[i], now);
            }
            delivered += readers[i].delivered();
        }
        if (pass != null) {
            pass.finish(allMaps, reader, delivered - deliveredBefore);
            pass = null;
        }
    }

    /** Runs the pass it wraps between {@link #begin()} and {@link #end()}. */
    private final class Reported implements RingPollLoop.Pass {
        private RingPollLoop.Pass inner;

        @Override
        public int run(RecordHandler handler) {
            begin();
            try {
                return inner.run(handler);
            } finally {
                end();
            }
        }
    }
}
