package dev.panbpf.internal;

import jdk.jfr.Category;
import jdk.jfr.Description;
import jdk.jfr.Event;
import jdk.jfr.Label;
import jdk.jfr.Name;
import jdk.jfr.StackTrace;

/**
 * PerfLostEvent ({@code dev.panbpf.PerfLost}) reports the events the kernel dropped on one CPU because that CPU's
 * perf ring was full, as found by one consume or poll pass. Enabled by default: losses are rare and are what an
 * operator most needs to see.
 */
@Name("dev.panbpf.PerfLost")
@Label("Perf Events Lost")
@Category("panbpf")
@Description("Events the kernel dropped on one CPU because its perf ring was full, found in one reader pass")
@StackTrace(false)
public final class PerfLostEvent extends Event {
    @Label("Map")
    @Description("The PERF_EVENT_ARRAY map read")
    String map;

    @Label("CPU")
    int cpu;

    @Label("Lost")
    @Description("Events lost, as reported by the LOST records this pass read")
    long lost;

    @Label("Lost Total")
    @Description("Events lost on this CPU since the reader opened, this pass included")
    long total;

    /** {@return whether a recording takes these events} Once compiled, the instance is scalar-replaced. */
    public static boolean on() {
        return new PerfLostEvent().isEnabled();
    }

    /**
     * Records a loss if a recording takes it.
     *
     * @param map the map's name
     * @param cpu the CPU whose ring lost events
     * @param lost the events this pass found lost
     * @param total the events lost on that CPU since the reader opened
     */
    public static void emit(String map, int cpu, long lost, long total) {
        PerfLostEvent e = new PerfLostEvent();
        if (e.shouldCommit()) {
            e.map = map;
            e.cpu = cpu;
            e.lost = lost;
            e.total = total;
            e.commit();
        }
    }
}
