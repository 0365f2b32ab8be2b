package dev.panbpf.perf;

import dev.panbpf.internal.ConsumerPassEvent;
import dev.panbpf.internal.PerfLostEvent;

import java.util.function.LongSupplier;

/**
 * PerfPassEvents reports a perf reader's passes to JDK Flight Recorder: the events the kernel lost on each CPU
 * ({@link PerfLostEvent}) and the pass itself ({@link ConsumerPassEvent}). The counts are the growth across the
 * pass of the counters the reader keeps anyway (a cursor adds its LOST records to {@code lost()} only during a
 * pass), so the events of a recording that spans the reader's life add up to its counters exactly. Nothing is
 * read or allocated while no recording takes these events, and nothing is done per record. Used by the
 * consuming thread only (inside the gate).
 */
final class PerfPassEvents {
    private final String reader;
    private final String map;
    private final PerfCpuSet set;
    private final LongSupplier delivered;
    private final long[] lostBefore;
    private long deliveredBefore;
    private boolean active;
    private boolean losses;
    /** The timing of the pass, null when the pass event is off. */
    private ConsumerPassEvent pass;

    /** Events of {@code reader} (its class name) on {@code map}, whose CPUs are {@code set}. */
    PerfPassEvents(String reader, String map, PerfCpuSet set, LongSupplier delivered) {
        this.reader = reader;
        this.map = map;
        this.set = set;
        this.delivered = delivered;
        this.lostBefore = new long[set.size()];
    }

    /** Takes the counters before a pass; does nothing when no recording takes these events. */
    void begin() {
        boolean timed = ConsumerPassEvent.on();
        losses = PerfLostEvent.on();
        active = timed || losses;
        if (!active) {
            return;
        }
        if (losses) {
            for (int i = 0; i < lostBefore.length; i++) {
                lostBefore[i] = set.ring(i).lost();
            }
        }
        if (timed) {
            deliveredBefore = delivered.getAsLong();
            pass = ConsumerPassEvent.start();
        }
    }

    /** Reports the pass begun last, also when its handler threw. */
    void end() {
        if (!active) {
            return;
        }
        active = false;
        if (losses) {
            for (int i = 0; i < lostBefore.length; i++) {
                long now = set.ring(i).lost();
                if (now != lostBefore[i]) {
                    PerfLostEvent.emit(map, set.cpu(i), now - lostBefore[i], now);
                }
            }
        }
        if (pass != null) {
            pass.finish(map, reader, delivered.getAsLong() - deliveredBefore);
            pass = null;
        }
    }
}
