package dev.panbpf.samples.compare;

import dev.panbpf.BpfObject;
import dev.panbpf.bpf.BpfPrograms;
import dev.panbpf.samples.Args;
import dev.panbpf.samples.Command;
import dev.panbpf.samples.Option;
import dev.panbpf.samples.Prerequisite;
import dev.panbpf.samples.StopSignal;
import dev.panbpf.samples.Table;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.function.Function;

/**
 * Compare is the {@code compare} command, the README's main job: the shared producer program floods a ring buffer
 * for half the time and a perf buffer for the other half, from one pinned thread per CPU, while Java consumes, and
 * a table shows events per second, produced, delivered and lost events with the loss rate, out-of-order arrivals
 * and kernel memory for each. Both buffers get the same memory by default (the perf buffer's per-CPU rings
 * together equal the ring buffer) and their usual settings: the ring buffer's adaptive wakeups and, by default, a
 * perf wakeup per event as libbpf does. Every option is checked before the first half starts.
 */
public final class Compare implements Command {
    private final Function<Buffer, BpfObject> objects;

    /** The command, loading the producer object shipped with the BPF programs. */
    public Compare() {
        this(b -> BpfObject.open(BpfPrograms.bytes("producer.bpf.o"), "producer"));
    }

    /** The command with the producer object (opened, not loaded) for each half coming from {@code objects}. */
    Compare(Function<Buffer, BpfObject> objects) {
        this.objects = objects;
    }

    @Override
    public String name() {
        return "compare";
    }

    @Override
    public String summary() {
        return "20-second head-to-head of ring buffer vs perf buffer: events/s, lost and loss %, out of order, "
                + "memory";
    }

    @Override
    public List<Option> options() {
        return CompareOptions.declared();
    }

    @Override
    public Set<Prerequisite> needs(Args args) {
        // The producer is an XDP program (CAP_NET_ADMIN even to test-run it) doing pointer arithmetic the verifier
        // allows with CAP_PERFMON, which the perf buffer's perf events need too.
        return EnumSet.of(Prerequisite.JAVA, Prerequisite.NATIVE_ACCESS, Prerequisite.BPF, Prerequisite.PERFMON,
                Prerequisite.NET_ADMIN, Prerequisite.LIBBPF, Prerequisite.KERNEL_BTF, Prerequisite.RING_BUFFER);
    }

    @Override
    public int run(Args args, PrintStream out, StopSignal stop) {
        Settings s = CompareOptions.parse(args); // every value checked before anything is loaded
        Trace trace = args.has("trace") ? Trace.to(out) : Trace.off();
        out.printf("ring buffer vs perf buffer, %.1f s each%s, %d-byte records, producers pinned to CPUs %s%n",
                s.eachBuffer().toMillis() / 1000.0, s.warmup().isZero() ? ""
                        : " after " + s.warmup().toSeconds() + " s of warm-up", s.size(), s.cpus());
        if (s.buffers().contains(Buffer.RING)) {
            out.printf("ring buffer: one %s ring shared by all CPUs, adaptive wakeups%n",
                    Table.bytes(s.ringBytes()));
        }
        if (s.buffers().contains(Buffer.PERF)) {
            out.printf("perf buffer: %d pages (%s) per CPU, a wakeup every %d event(s)%n", s.perfPages(),
                    Table.bytes(s.perfPages() * Settings.PAGE), s.perfWakeup());
        }
        out.println();
        // In place only on a terminal, and not with --trace, whose lines would break the rewritten one.
        Progress progress = new Progress(out, !trace.on() && System.console() != null
                && System.console().isTerminal() && out == System.out);
        List<Row> rows = measure(s, progress, trace, stop, objects);
        nothingToShow(rows);
        out.println();
        Report.print(rows, s, out);
        return rows.stream().anyMatch(r -> r instanceof NotRun n && n.failed()) ? 1 : 0;
    }

    /**
     * When every half that was tried failed there is no table to show: the first failure is thrown (the others
     * suppressed into it), so the CLI reports it as the command's failure, such as a missing privilege.
     */
    private static void nothingToShow(List<Row> rows) {
        if (rows.stream().anyMatch(r -> r instanceof Result)) {
            return;
        }
        RuntimeException first = null;
        for (Row r : rows) {
            if (r instanceof NotRun n && n.failed()) {
                if (first == null) {
                    first = n.failure();
                } else {
                    first.addSuppressed(n.failure());
                }
            }
        }
        if (first != null) {
            throw first;
        }
    }

    /**
     * Runs the ring buffer half, then the perf buffer half: a half skipped by {@code --only}, not reached
     * because of Ctrl-C, or failed gets a {@link NotRun} row saying so, and a failure does not stop the other.
     */
    static List<Row> measure(Settings s, Progress progress, Trace trace, StopSignal stop,
                             Function<Buffer, BpfObject> objects) {
        List<Row> rows = new ArrayList<>();
        for (Buffer b : Buffer.values()) {
            if (!s.buffers().contains(b)) {
                rows.add(new NotRun(b, "skipped by --only " + s.buffers().iterator().next().word(), null));
            } else if (stop.raised()) {
                rows.add(new NotRun(b, "stopped (Ctrl-C) before its turn", null));
            } else {
                try {
                    rows.add(new Half(b, s, progress, trace, stop).run(objects));
                } catch (RuntimeException e) {
                    progress.done();
                    trace.step("%s failed: %s", b.title(), e);
                    rows.add(new NotRun(b, "failed: " + e.getMessage(), e));
                }
            }
        }
        return rows;
    }

    /** {@link #measure} with the shipped producer object. */
    static List<Row> measure(Settings s, Progress progress, StopSignal stop) {
        return measure(s, progress, Trace.off(), stop, new Compare().objects);
    }
}
