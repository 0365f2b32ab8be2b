package dev.panbpf.internal;

import jdk.jfr.Category;
import jdk.jfr.Description;
import jdk.jfr.Event;
import jdk.jfr.Label;
import jdk.jfr.Name;
import jdk.jfr.Period;
import jdk.jfr.StackTrace;

/**
 * ProducerDropsEvent ({@code dev.panbpf.ProducerDrops}) reports the records BPF programs could not put into a
 * ring or perf buffer, as the wrappers of panbpf.bpf.h count them. The count lives in a BPF map, not in the
 * reader, so the event is periodic (once a second by default) rather than per pass, and only a buffer whose count
 * grew since the last period is reported. Enabled by default.
 */
@Name("dev.panbpf.ProducerDrops")
@Label("Producer Drops")
@Category("panbpf")
@Description("Records a BPF program failed to reserve or output (buffer full, no reader on that CPU)")
@StackTrace(false)
@Period("1 s")
public final class ProducerDropsEvent extends Event {
    @Label("Map")
    @Description("The ring buffer or perf event array the program wrote to")
    String map;

    @Label("Drops")
    @Description("Failed reserves or outputs since the last report")
    long drops;

    @Label("Drops Total")
    @Description("Failed reserves or outputs since the reader opened")
    long total;

    /**
     * Records drops if a recording takes them; called from the periodic hook only.
     *
     * @param map the buffer map's name
     * @param drops the drops since the last report
     * @param total the drops since the reader opened
     */
    static void emit(String map, long drops, long total) {
        ProducerDropsEvent e = new ProducerDropsEvent();
        if (e.shouldCommit()) {
            e.map = map;
            e.drops = drops;
            e.total = total;
            e.commit();
        }
    }
}
