package dev.panbpf.internal;

import jdk.jfr.Category;
import jdk.jfr.Description;
import jdk.jfr.Event;
import jdk.jfr.Label;
import jdk.jfr.Name;
import jdk.jfr.StackTrace;
import jdk.jfr.Threshold;

/**
 * ConsumerPassEvent ({@code dev.panbpf.ConsumerPass}) is one pass of a reader over its ring(s) that delivered
 * records: how many, and how long the pass took, handlers included and waiting for records excluded. A busy
 * consumer runs thousands of passes a second, so by default only passes of 10 ms or more are recorded: the slow
 * ones, which are what lets a ring fill up. Passes that delivered nothing are never recorded.
 */
@Name("dev.panbpf.ConsumerPass")
@Label("Consumer Pass")
@Category("panbpf")
@Description("One consume or poll pass of a panbpf reader that delivered records; waiting is not included")
@Threshold("10 ms")
@StackTrace(false)
public final class ConsumerPassEvent extends Event {
    @Label("Map")
    @Description("The map read (the maps of a poller, comma-separated)")
    String map;

    @Label("Reader")
    @Description("The reader class: RingBuffer, RingBufferPoller, PerfBuffer or OrderedPerfBuffer")
    String reader;

    @Label("Records")
    @Description("Records delivered to handlers by this pass")
    long records;

    /** {@return whether a recording takes these events} Once compiled, the instance is scalar-replaced. */
    public static boolean on() {
        return new ConsumerPassEvent().isEnabled();
    }

    /**
     * Starts timing a pass; {@link #finish} ends and records it.
     *
     * @return the event, begun
     */
    public static ConsumerPassEvent start() {
        ConsumerPassEvent e = new ConsumerPassEvent();
        e.begin();
        return e;
    }

    /**
     * Ends the pass and records it if it delivered records and lasted at least the threshold.
     *
     * @param map the map's name (the maps' names of a poller, comma-separated)
     * @param reader the reader's class name
     * @param records the records the pass delivered; a pass that delivered none is not recorded
     */
    public void finish(String map, String reader, long records) {
        end();
        if (records > 0 && shouldCommit()) {
            this.map = map;
            this.reader = reader;
            this.records = records;
            commit();
        }
    }
}
