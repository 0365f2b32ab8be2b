package dev.panbpf.internal;

import jdk.jfr.Category;
import jdk.jfr.Description;
import jdk.jfr.Event;
import jdk.jfr.Label;
import jdk.jfr.Name;
import jdk.jfr.StackTrace;

/**
 * RingDiscardedEvent ({@code dev.panbpf.RingDiscarded}) reports the records a ring buffer's producers discarded
 * ({@code bpf_ringbuf_discard}) that one consume or poll pass skipped. Enabled by default, like the perf losses.
 */
@Name("dev.panbpf.RingDiscarded")
@Label("Ring Records Discarded")
@Category("panbpf")
@Description("Records the BPF producer discarded in a ring buffer, skipped by one reader pass")
@StackTrace(false)
public final class RingDiscardedEvent extends Event {
    @Label("Map")
    @Description("The BPF_MAP_TYPE_RINGBUF map read")
    String map;

    @Label("Discarded")
    @Description("Discarded records this pass skipped")
    long discarded;

    @Label("Discarded Total")
    @Description("Discarded records skipped in this ring since the reader opened, this pass included")
    long total;

    /** {@return whether a recording takes these events} Once compiled, the instance is scalar-replaced. */
    public static boolean on() {
        return new RingDiscardedEvent().isEnabled();
    }

    /**
     * Records discarded records if a recording takes them.
     *
     * @param map the map's name
     * @param discarded the discarded records this pass skipped
     * @param total the discarded records skipped since the reader opened
     */
    public static void emit(String map, long discarded, long total) {
        RingDiscardedEvent e = new RingDiscardedEvent();
        if (e.shouldCommit()) {
            e.map = map;
            e.discarded = discarded;
            e.total = total;
            e.commit();
        }
    }
}
