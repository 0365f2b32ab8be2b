package dev.panbpf.samples.compare;

import dev.panbpf.BpfObject;
import dev.panbpf.Cpus;
import dev.panbpf.bpf.BpfPrograms;
import dev.panbpf.perf.PerfBuffer;
import dev.panbpf.perf.PerfOptions;
import dev.panbpf.ringbuf.RecordHandler;
import dev.panbpf.ringbuf.RingBuffer;
import dev.panbpf.samples.Args;
import dev.panbpf.samples.Command;
import dev.panbpf.samples.Option;
import dev.panbpf.samples.Prerequisite;
import dev.panbpf.samples.StopSignal;
import dev.panbpf.samples.Table;
import dev.panbpf.samples.UsageException;

import java.io.PrintStream;
import java.time.Duration;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.function.IntSupplier;
import java.util.function.LongSupplier;

/**
 * Compare is the {@code compare} command, the README's main job: the shared producer program floods a ring buffer
 * for half the time and a perf buffer for the other half, from one pinned thread per CPU, while Java consumes, and
 * a table shows events per second, lost events, out-of-order arrivals and kernel memory for each. Both buffers get
 * the same memory (the perf buffer's per-CPU rings together equal the ring buffer) and their usual settings: the
 * ring buffer's adaptive wakeups and, by default, a perf wakeup per event as libbpf does.
 */
public final class Compare implements Command {
    private static final Duration TICK = Duration.ofMillis(100);
    private static final long PAGE = Cpus.pageSize();
    /** producer_config.target bits: send to the ring buffer rb, to the perf buffer pb. */
    private static final int RING = 1;
    private static final int PERF = 2;

    /** What one run compares: record size, records per program run, perf pages and wakeups, CPUs, duration. */
    record Settings(int size, int perRun, int perfPages, int perfWakeup, List<Integer> cpus, Duration eachBuffer) {
        long perfBytes() {
            return (long) cpus.size() * perfPages * PAGE;
        }

        /** The ring gets what the perf rings get together, rounded up to a power of two as the kernel wants. */
        int ringBytes() {
            long b = perfBytes();
            return (int) (Long.bitCount(b) == 1 ? b : Long.highestOneBit(b) << 1);
        }
    }

    @Override
    public String name() {
        return "compare";
    }

    @Override
    public String summary() {
        return "20-second head-to-head of ring buffer vs perf buffer: events/s, lost, out of order, memory";
    }

    @Override
    public List<Option> options() {
        return List.of(
                Option.of("seconds", "N", "total time, split evenly between the two buffers (default 20)"),
                Option.of("size", "BYTES", "record payload size, 24..8192 (default 64)"),
                Option.of("perf-pages", "N", "perf buffer pages per CPU, a power of two (default 64)"),
                Option.of("perf-wakeup", "N", "wake the perf consumer every N events (default 1, as libbpf)"));
    }

    @Override
    public Set<Prerequisite> needs(Args args) {
        // The producer is an XDP program (CAP_NET_ADMIN even to test-run it) doing pointer arithmetic the verifier
        // allows with CAP_PERFMON, which the perf buffer's perf events need too.
        return EnumSet.of(Prerequisite.JAVA, Prerequisite.NATIVE_ACCESS, Prerequisite.BPF, Prerequisite.PERFMON,
                Prerequisite.NET_ADMIN, Prerequisite.LIBBPF, Prerequisite.KERNEL_BTF, Prerequisite.RING_BUFFER);
    }

    @Override
    public int run(Args args, PrintStream out, StopSignal stop) throws Exception {
        int size = args.positiveInt("size", 64);
        if (size < 24 || size > 8192) {
            throw new UsageException("--size must be 24..8192 (the record starts with a 24-byte "
                    + "header), got " + size);
        }
        Duration total = args.seconds("seconds", Duration.ofSeconds(20));
        Settings s = new Settings(size, 256, args.positiveInt("perf-pages", 64), args.positiveInt("perf-wakeup", 1),
                Cpus.online(), total.dividedBy(2));
        out.printf("ring buffer vs perf buffer, %.1f s each, %d-byte records, producers pinned to CPUs %s%n",
                s.eachBuffer().toMillis() / 1000.0, size, s.cpus());
        out.printf("ring buffer: one %s ring shared by all CPUs, adaptive wakeups%n", Table.bytes(s.ringBytes()));
        out.printf("perf buffer: %d pages (%s) per CPU, a wakeup every %d event(s)%n%n", s.perfPages(),
                Table.bytes(s.perfPages() * PAGE), s.perfWakeup());
        Progress progress = new Progress(out, System.console() != null && System.console().isTerminal()
                && out == System.out);
        List<Result> results = measure(s, progress, stop);
        out.println();
        Table t = new Table("buffer", "events/s", "delivered", "lost", "out of order", "memory");
        for (Result r : results) {
            t.row(r.buffer(), Table.count((long) r.perSecond()), Table.count(r.delivered()), Table.count(r.lost()),
                    Table.count(r.outOfOrder()), Table.bytes(r.memoryBytes()));
        }
        t.print(out);
        return 0;
    }

    /** Runs the ring buffer phase, then (unless stopped) the perf buffer phase. */
    static List<Result> measure(Settings s, Progress progress, StopSignal stop) throws Exception {
        Result ring = ringPhase(s, progress, stop);
        return stop.raised() ? List.of(ring) : List.of(ring, perfPhase(s, progress, stop));
    }

    private static Result ringPhase(Settings s, Progress progress, StopSignal stop) throws Exception {
        try (ProducerObject producer = open(s, RING)) {
            Tally tally = new Tally();
            RecordHandler handler = record -> {
                tally.see(record);
                return true;
            };
            try (RingBuffer ring = RingBuffer.of(producer.rb())) {
                double secs = drive(producer, s, () -> ring.poll(handler, TICK), tally, () -> counters(producer)
                        .ringFailed(), "ring buffer", progress, stop);
                while (ring.consume(handler) > 0) {
                    // drain what the producers left
                }
                ProducerCounters c = counters(producer);
                return new Result("ring buffer", secs, c.ringOk() + c.ringFailed(), tally.count(), c.ringFailed(),
                        tally.outOfOrder(), s.ringBytes() + 2 * PAGE); // + consumer and producer pages
            }
        }
    }

    private static Result perfPhase(Settings s, Progress progress, StopSignal stop) throws Exception {
        try (ProducerObject producer = open(s, PERF)) {
            Tally tally = new Tally();
            PerfBuffer.Handler handler = (cpu, payload, time) -> {
                tally.see(payload);
                return true;
            };
            PerfOptions options = PerfOptions.defaults().pagesPerCpu(s.perfPages())
                    .wakeupEvents(s.perfWakeup()).payloadSize(s.size()).cpus(s.cpus());
            try (PerfBuffer perf = PerfBuffer.of(producer.pb(), options)) {
                double secs = drive(producer, s, () -> perf.poll(handler, TICK), tally, perf::lost, "perf buffer",
                        progress, stop);
                while (perf.consume(handler) > 0) {
                    // drain what the producers left
                }
                ProducerCounters c = counters(producer);
                // A full perf ring makes bpf_perf_event_output fail (perfFailed) and the kernel count the event in
                // a LOST record (perf.lost()): the same events seen from both sides, so take the larger.
                long lost = Math.max(perf.lost(), c.perfFailed());
                return new Result("perf buffer", secs, c.perfOk() + c.perfFailed(), tally.count(), lost,
                        tally.outOfOrder(), (long) s.cpus().size() * (s.perfPages() + 1) * PAGE); // + metadata page
            }
        }
    }

    /** Runs the producers for the phase, consuming with {@code poll} and showing progress once a second. */
    private static double drive(ProducerObject producer, Settings s, IntSupplier poll, Tally tally,
                                LongSupplier lost, String name, Progress progress,
                                StopSignal stop) {
        long start = System.nanoTime();
        long end = start + s.eachBuffer().toNanos();
        long lastTime = start;
        long lastCount = 0;
        long now = start;
        try (Producers producers = new Producers(producer.produce(), s.cpus())) {
            while (now < end && !stop.raised() && producers.running()) {
                poll.getAsInt();
                now = System.nanoTime();
                if (now - lastTime >= 1_000_000_000L || now >= end) {
                    long rate = (long) ((tally.count() - lastCount) / ((now - lastTime) / 1e9));
                    progress.show(String.format("%-11s %4.1f/%.1f s  %,13d events/s  delivered %,d  lost %,d", name,
                            Math.min(now - start, s.eachBuffer().toNanos()) / 1e9, s.eachBuffer().toNanos() / 1e9,
                            rate, tally.count(), lost.getAsLong()));
                    lastTime = now;
                    lastCount = tally.count();
                }
            }
        }
        progress.done();
        return (now - start) / 1e9;
    }

    /** Opens and loads the producer (its generated skeleton), sized per {@code s}, sending to {@code target}. */
    private static ProducerObject open(Settings s, int target) {
        ProducerObject producer = ProducerObject.of(BpfObject.open(BpfPrograms.bytes("producer.bpf.o"), "producer"));
        try {
            producer.object().setMaxEntries("rb", s.ringBytes());
            producer.load();
            producer.updateConfig(0, new ProducerConfig(s.perRun(), s.size(), 0, 0, target, 0));
            return producer;
        } catch (RuntimeException e) {
            producer.close();
            throw e;
        }
    }

    private static ProducerCounters counters(ProducerObject producer) {
        return producer.lookupCounters(0);
    }

}
