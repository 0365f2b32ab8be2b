package dev.panbpf.samples.compare;

import dev.panbpf.Cpus;
import dev.panbpf.samples.Table;

import java.io.PrintStream;
import java.util.List;
import java.util.Locale;

/**
 * Report prints the table that ends {@code compare}, a row per buffer, and the notes under it: why a row did
 * not run, and what losses mean and how to avoid them.
 */
final class Report {
    /** What a row that did not run shows where its numbers would be, so dashes are not read as a result. */
    static final String NOT_RUN = "not run";

    private Report() { }

    static void print(List<Row> rows, Settings s, PrintStream out) {
        Table t = new Table("buffer", "events/s", "produced", "delivered", "lost", "loss %", "out of order",
                "memory");
        for (Row row : rows) {
            switch (row) {
                case Result r -> t.row(r.buffer().title(), Table.count((long) r.perSecond()),
                        Table.count(r.produced()), Table.count(r.delivered()), Table.count(r.lost()),
                        percent(r), Table.count(r.outOfOrder()), Table.bytes(r.memoryBytes()));
                case NotRun n -> t.row(n.buffer().title(), NOT_RUN, "-", "-", "-", "-", "-", "-");
            }
        }
        t.print(out);
        for (Row row : rows) {
            if (row instanceof NotRun n) {
                out.println(n.buffer().title() + " " + NOT_RUN + ": " + n.reason());
            } else if (row instanceof Result r && r.seconds() < s.eachBuffer().toMillis() / 1000.0 - 0.05) {
                out.printf(Locale.ROOT, "%s stopped (Ctrl-C) after %.1f of its %.1f s; its rates are for that "
                        + "time%n", r.buffer().title(), r.seconds(), s.eachBuffer().toMillis() / 1000.0);
            }
        }
        losses(rows, s, out);
    }

    /**
     * Lost over produced, in percent: {@code 0%} only when nothing was lost, so a tiny loss never rounds to zero.
     */
    static String percent(Result r) {
        if (r.produced() == 0) {
            return "-";
        }
        if (r.lost() == 0) {
            return "0%";
        }
        double p = r.lossPercent();
        return p < 0.001 ? "<0.001%" : String.format(Locale.ROOT, "%.3f%%", p);
    }

    /**
     * The note on losses, when a buffer lost anything: how many in the first seconds, what those mean, what helps,
     * and whether the rest says the consumer does not keep up at all.
     */
    private static void losses(List<Row> rows, Settings s, PrintStream out) {
        List<Result> lossy = rows.stream().filter(r -> r instanceof Result x && x.lost() > 0).map(Result.class::cast)
                .toList();
        if (lossy.isEmpty()) {
            return;
        }
        out.println();
        for (Result r : lossy) {
            out.printf(Locale.ROOT, "%s lost %s in %.1f s of counting, %s of them in the first %.1f s%n",
                    r.buffer().title(), Table.count(r.lost()), r.seconds(), Table.count(r.lostEarly()),
                    Math.min(r.seconds(), Half.EARLY.toMillis() / 1000.0));
        }
        if (s.warmup().isZero()) {
            out.println("Losses in the first seconds are usually warm-up: the JIT is still compiling the consumer, so "
                    + "Java drains slower than the producers fill and the buffer overflows until it catches up; they "
                    + "are not the steady rate. To leave them out: --warmup 2 (runs each buffer 2 s before counting), "
                    + "a bigger buffer (--perf-pages, --ring-bytes), or a longer --seconds so they weigh less.");
        } else {
            out.printf("These losses came after a %d s warm-up, so they are not the JIT warming up.%n",
                    s.warmup().toSeconds());
        }
        for (Result r : lossy) {
            double early = Half.EARLY.toMillis() / 1000.0;
            double later = r.seconds() - early;
            // Warm-up losses fade; losses that go on at half the early rate or more are the steady state.
            if (later > 0.5 && (r.lost() - r.lostEarly()) / later >= r.lostEarly() / early / 2) {
                out.printf("%s kept losing after its first %d s: the consumer does not keep up with this rate%s; "
                        + "%s or fewer producers (--cpus) helps.%n", r.buffer().title(), Half.EARLY.toSeconds(),
                        s.cpus().size() == Cpus.online().size() ? " (every CPU runs a producer, so the consumer "
                                + "shares one with it)" : "",
                        r.buffer() == Buffer.RING ? "a bigger --ring-bytes"
                                : "more --perf-pages, a larger --perf-wakeup");
            }
        }
    }
}
