package dev.panbpf.samples.deletions;

import dev.panbpf.samples.Args;
import dev.panbpf.samples.Command;
import dev.panbpf.samples.Option;
import dev.panbpf.samples.Prerequisite;
import dev.panbpf.samples.StopSignal;

import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;

/**
 * Deletions is the {@code deletions} command: it prints every file deletion on the machine (unlink and unlinkat,
 * from any process) with pid, command and path, until Ctrl-C or {@code --seconds}, then what was dropped. It
 * deletes a file of its own first, so there is something to see at once.
 */
public final class Deletions implements Command {
    @Override
    public String name() {
        return "deletions";
    }

    @Override
    public String summary() {
        return "file deletions (unlink/unlinkat tracepoints) over a ring buffer, with drop counts";
    }

    @Override
    public List<Option> options() {
        return List.of(Option.of("seconds", "N", "stop after N seconds (default: run until Ctrl-C)"));
    }

    @Override
    public Set<Prerequisite> needs(Args args) {
        // libbpf attaches the tracepoints by the ids it reads under tracefs.
        return EnumSet.of(Prerequisite.JAVA, Prerequisite.NATIVE_ACCESS, Prerequisite.BPF, Prerequisite.PERFMON,
                Prerequisite.LIBBPF, Prerequisite.KERNEL_BTF, Prerequisite.RING_BUFFER, Prerequisite.TRACEFS,
                Prerequisite.TRACEFS_READABLE);
    }

    @Override
    public int run(Args args, PrintStream out, StopSignal stop) throws Exception {
        Duration seconds = args.seconds("seconds", null);
        try (DeletionTracer tracer = DeletionTracer.start()) {
            stop.onRaise(tracer::wakeup);
            out.println("tracing file deletions" + (seconds == null ? " until Ctrl-C" : " for "
                    + seconds.toSeconds() + " s") + "; try rm in another terminal");
            Path mine = Files.createTempFile("panbpf-deletions-", ".txt");
            Files.delete(mine);
            long end = seconds == null ? Long.MAX_VALUE : System.nanoTime() + seconds.toNanos();
            long[] seen = new long[1];
            while (!stop.raised() && System.nanoTime() < end) {
                long left = Math.max(1, Math.min(200_000_000L, end - System.nanoTime()));
                tracer.poll(e -> {
                    out.printf("pid %-7d %-16s %s%n", e.pid(), e.comm(), e.filename());
                    seen[0]++;
                }, Duration.ofNanos(left));
            }
            DeletionTracer.Drops d = tracer.drops();
            out.printf("%n%d deletions; dropped %d (no room %d, reserve failed %d, unreadable path %d)%n", seen[0],
                    d.total(), d.noRoom(), d.reserveFailed(), d.badPath());
            return 0;
        }
    }
}
