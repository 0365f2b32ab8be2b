package dev.panbpf.samples.printk;

import dev.panbpf.samples.Args;
import dev.panbpf.samples.Command;
import dev.panbpf.samples.Option;
import dev.panbpf.samples.Prerequisite;
import dev.panbpf.samples.StopSignal;
import dev.panbpf.samples.Table;

import java.io.PrintStream;
import java.time.Duration;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.IntConsumer;

/**
 * Printk is the {@code printk} command. First it shows what bpf_printk is good at: a program's lines, read from
 * trace_pipe, while debugging. Then it sends the same event as fast as it can both ways for a few seconds and
 * counts what reaches Java: the trace buffer is a text log shared by the whole machine that drops lines when the
 * reader falls behind, while a ring buffer carries binary records to one consumer and counts what it cannot
 * take. That is why printk is for debugging and buffers are for data.
 */
public final class Printk implements Command {
    private static final int BATCH = 100_000; // a test run with repeat > 1 costs ~15 ms of setup: amortize it

    @Override
    public String name() {
        return "printk";
    }

    @Override
    public String summary() {
        return "bpf_printk lines from trace_pipe, and events/s via printk vs via a ring buffer";
    }

    @Override
    public List<Option> options() {
        return List.of(Option.of("lines", "N", "printk lines to show first (default 5)"),
                Option.of("seconds", "N", "how long to flood each way in the measurement (default 2)"));
    }

    @Override
    public Set<Prerequisite> needs(Args args) {
        // XDP programs (CAP_NET_ADMIN) that call bpf_printk (CAP_PERFMON), whose lines come from trace_pipe.
        return EnumSet.of(Prerequisite.JAVA, Prerequisite.NATIVE_ACCESS, Prerequisite.BPF, Prerequisite.PERFMON,
                Prerequisite.NET_ADMIN, Prerequisite.LIBBPF, Prerequisite.KERNEL_BTF, Prerequisite.RING_BUFFER,
                Prerequisite.TRACEFS, Prerequisite.TRACEFS_READABLE);
    }

    @Override
    @SuppressWarnings("try") // the pipe works on its own thread while open
    public int run(Args args, PrintStream out, StopSignal stop) throws Exception {
        int lines = args.positiveInt("lines", 5);
        Duration seconds = args.seconds("seconds", Duration.ofSeconds(2));
        int tag = ThreadLocalRandom.current().nextInt(1, Integer.MAX_VALUE);
        try (PrintkProgram program = PrintkProgram.load(tag)) {
            out.println("bpf_printk lines from " + TracePipe.PATH + ":");
            AtomicLong shown = new AtomicLong();
            try (TracePipe pipe = TracePipe.open(l -> l.contains(program.linePrefix()), l -> {
                out.println("  " + l.strip());
                shown.incrementAndGet();
            })) {
                program.printk(lines);
                awaitCount(shown, lines, Duration.ofSeconds(2), stop);
            }
            if (stop.raised()) {
                return 0;
            }
            out.println();
            out.println("the same event for " + seconds.toSeconds() + " s each way, as fast as one thread can run "
                    + "the program:");
            Table t = new Table("way", "sent", "reached Java", "per second", "lost");
            row(t, "bpf_printk + trace_pipe", printkRate(program, seconds, stop), seconds);
            row(t, "ring buffer", ringRate(program, seconds, stop), seconds);
            out.println();
            t.print(out);
            out.println();
            out.println("printk's losses are silent: the trace buffer overwrites lines nobody read in time, and we "
                    + "know the count only because the program numbered its lines. A ring buffer's losses are "
                    + "failed reserves the program sees (and counts), and its records are binary, not text.");
        }
        return 0;
    }

    private record Count(long sent, long received) { }

    private static void row(Table t, String way, Count c, Duration d) {
        t.row(way, Table.count(c.sent()), Table.count(c.received()),
                Table.count((long) (c.received() / (d.toNanos() / 1e9))), Table.count(c.sent() - c.received()));
    }

    @SuppressWarnings("try") // the pipe works on its own thread while open
    private static Count printkRate(PrintkProgram program, Duration d, StopSignal stop) throws Exception {
        AtomicLong received = new AtomicLong();
        long before = program.printkSent();
        try (TracePipe pipe = TracePipe.open(l -> l.contains(program.linePrefix()), l -> received.incrementAndGet())) {
            flood(program::printk, d, stop);
            settle(received);
        }
        return new Count(program.printkSent() - before, received.get());
    }

    private static Count ringRate(PrintkProgram program, Duration d, StopSignal stop) throws Exception {
        AtomicLong received = new AtomicLong();
        long before = program.recordsSent();
        Thread consumer = new Thread(() -> {
            while (!program.ring().isClosed() && !Thread.currentThread().isInterrupted()) {
                received.addAndGet(program.ring().poll(r -> true, Duration.ofMillis(100)));
            }
        }, "ring-consumer");
        consumer.start();
        try {
            flood(program::record, d, stop);
            settle(received);
        } finally {
            consumer.interrupt();
            program.ring().wakeup();
            consumer.join();
        }
        return new Count(program.recordsSent() - before, received.get());
    }

    /** Runs the program in batches until {@code d} has passed. */
    private static void flood(IntConsumer batch, Duration d, StopSignal stop) {
        long end = System.nanoTime() + d.toNanos();
        while (System.nanoTime() < end && !stop.raised()) {
            batch.accept(BATCH);
        }
    }

    /** Waits until the count stops growing, so events already on their way are counted. */
    private static void settle(AtomicLong count) throws InterruptedException {
        long last;
        do {
            last = count.get();
            Thread.sleep(200);
        } while (count.get() != last);
    }

    private static void awaitCount(AtomicLong count, long n, Duration d, StopSignal stop) throws InterruptedException {
        long end = System.nanoTime() + d.toNanos();
        while (count.get() < n && System.nanoTime() < end && !stop.raised()) {
            Thread.sleep(10);
        }
    }
}
