package dev.panbpf.bench;

import dev.panbpf.Cpus;
import dev.panbpf.perf.PerfBuffer;
import dev.panbpf.perf.PerfOptions;
import dev.panbpf.ringbuf.RecordHandler;
import dev.panbpf.ringbuf.RingBuffer;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicReference;

/**
 * ConsumerCpu answers "what does reading cost the consumer in production?": a producer on CPU 0 writes
 * {@link #SIZE}-byte records at a fixed {@link #RATE} (bursts of {@link #BURST} records on a fixed schedule, paced
 * by spinning, since a park oversleeps by tens of µs) while one consumer pinned to CPU 1 polls; the score is the
 * consumer thread's CPU time (CLOCK_THREAD_CPUTIME_ID) per delivered event. panbpf's {@code RingBuffer.poll} loop
 * runs against libbpf's {@code ring_buffer__poll} loop in C (one downcall per run, so no Java runs on that side),
 * with the ring's adaptive wakeups ({@code default}) and with BPF_RB_NO_WAKEUP plus a wakeup forced on every
 * {@link #WAKEUP_EVERY}-th record ({@code batched}). Each consumer reads a ring of its own (two consumers on one
 * ring would corrupt each other); runs alternate between them so that the machine's noise hits both alike, and each
 * first runs once unmeasured (for the JIT). The table gives the median over the runs and the ratio of the medians.
 * Not a JMH score: a JMH invocation cannot report CPU time per event. Usage: {@code java
 * --enable-native-access=ALL-UNNAMED -cp benchmarks.jar dev.panbpf.bench.ConsumerCpu [out.md] [seconds-per-run]
 * [runs]}.
 *
 * <p>Perf buffers: {@code PerfBuffer.poll} against libbpf's {@code perf_buffer__poll}, both reading every CPU's
 * buffer, with the perf events' wakeup_events 1 ({@code default}, what perf_buffer__new opens) and
 * {@link #WAKEUP_EVERY} ({@code batched}, through perf_buffer__new_raw on libbpf's side).
 *
 * <p>Since a wakeup costs both consumers the same few microseconds, the {@code delayed} rows show what waking
 * less often saves: panbpf's reader with {@code batchDelay(DELAY)} on default wakeups, against libbpf's loop as it
 * is ({@code delayed}) and against libbpf's loop sleeping DELAY after every poll that delivered
 * ({@code delayed-both}, the like-for-like comparison).
 */
public final class ConsumerCpu {
    static final long RATE = 1_000_000;
    static final int SIZE = 64;
    static final int BURST = 64;
    static final int WAKEUP_EVERY = 64;
    static final int PRODUCER_CPU = 0;
    static final int CONSUMER_CPU = 1;
    static final long POLL_TIMEOUT_NANOS = Duration.ofMillis(10).toNanos();
    static final String[] BUFFERS = {"ring", "perf"};
    /**
     * Wakeup policies: the program's default, batched by the program (ring) or wakeup_events (perf), and the
     * default with panbpf's batch delay of {@link #DELAY} against libbpf's plain loop ({@code delayed}) and
     * against libbpf's loop given the same sleep by hand ({@code delayed-both}).
     */
    static final String[] WAKEUPS = {"default", "batched", "delayed", "delayed-both"};
    static final Duration DELAY = Duration.ofNanos(250_000);
    private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();

    /** One consumer on one producer's buffer. */
    interface Consumer extends AutoCloseable {
        /** Polls for {@code nanos} of wall time; returns {events delivered, CPU nanoseconds of this thread}. */
        long[] pollFor(long nanos);

        /** Reads what is left after a run, unmeasured. */
        void drainRest();

        /** Events delivered since it was opened. */
        long delivered();

        /** Events the kernel reported lost to this consumer (perf buffers only). */
        default long lost() {
            return 0;
        }

        @Override
        void close();
    }

    /** One run's outcome for one consumer. */
    record Run(long events, long cpuNanos, double seconds) {
        double nanosPerEvent() {
            return (double) cpuNanos / events;
        }
    }

    public static void main(String[] args) throws IOException, InterruptedException {
        Path out = Path.of(args.length > 0 ? args[0] : "benchmarks/results/cpu.md");
        double seconds = args.length > 1 ? Double.parseDouble(args[1]) : 2.0;
        int runs = args.length > 2 ? Integer.parseInt(args[2]) : 5;
        if (Runtime.getRuntime().availableProcessors() < 2) {
            throw new IllegalStateException("the producer runs on CPU 0 and the consumer on CPU 1");
        }
        if (!THREADS.isCurrentThreadCpuTimeSupported()) {
            throw new IllegalStateException("this JVM cannot measure a thread's CPU time");
        }
        Cpus.pinCurrentThread(CONSUMER_CPU);
        List<String> lines = new ArrayList<>();
        lines.add(String.format(Locale.ROOT, "Consumer CPU per event: a producer on CPU %d writing %,d %d-byte "
                + "records/s (bursts of %d), one consumer on CPU %d polling; CPU time of the consumer thread per "
                + "delivered event, median of %d runs of %.1f s (ratio = panbpf / libbpf, at or below 0.80 meets "
                + "the target):", PRODUCER_CPU, RATE, SIZE, BURST, CONSUMER_CPU, runs, seconds));
        lines.add("");
        lines.add("| buffer | wakeups | panbpf ns/event | libbpf ns/event | ratio | delivered ev/s (panbpf, libbpf) "
                + "| refused by a full ring |");
        lines.add("|---|---|---:|---:|---:|---:|---:|");
        for (String buffer : BUFFERS) {
            for (String wakeups : WAKEUPS) {
                String line = compare(buffer, wakeups, seconds, runs);
                System.out.println(line);
                lines.add(line);
            }
        }
        Files.createDirectories(out.toAbsolutePath().getParent());
        Files.writeString(out, String.join("\n", lines) + "\n");
    }

    /** Alternating runs of panbpf's and libbpf's consumer on {@code buffer}; returns the table row. */
    static String compare(String buffer, String wakeups, double seconds, int runs) throws InterruptedException {
        boolean batched = wakeups.equals("batched");
        boolean delayed = wakeups.startsWith("delayed");
        long libbpfDelayMicros = wakeups.equals("delayed-both") ? DELAY.toNanos() / 1000 : 0;
        boolean ring = buffer.equals("ring");
        ProducerConfig config = ring ? new ProducerConfig(BURST, SIZE, 0, batched ? Producer.NO_WAKEUP : 0,
                Producer.RING, batched ? WAKEUP_EVERY : 0) : new ProducerConfig(BURST, SIZE, 0, 0, Producer.PERF, 0);
        long nanos = (long) (seconds * 1e9);
        try (Producer forJava = new Producer(DrainBenchmark.BUFFER_BYTES, config);
             Producer forLibbpf = new Producer(DrainBenchmark.BUFFER_BYTES, config);
             Consumer java = open(buffer, "panbpf", forJava, batched, delayed ? DELAY : Duration.ZERO);
             Consumer libbpf = open(buffer, "libbpf", forLibbpf, batched, Duration.ofNanos(libbpfDelayMicros * 1000))) {
            run(forJava, java, nanos);                      // unmeasured: the JIT compiles the poll loop
            run(forLibbpf, libbpf, nanos);
            double[] j = new double[runs];
            double[] l = new double[runs];
            double jRate = 0;
            double lRate = 0;
            for (int i = 0; i < runs; i++) {
                Run rj = run(forJava, java, nanos);
                Run rl = run(forLibbpf, libbpf, nanos);
                j[i] = rj.nanosPerEvent();
                l[i] = rl.nanosPerEvent();
                jRate += rj.events() / rj.seconds() / runs;
                lRate += rl.events() / rl.seconds() / runs;
            }
            long refused = check(buffer, forJava, java) + check(buffer, forLibbpf, libbpf);
            double mj = median(j);
            double ml = median(l);
            return String.format(Locale.ROOT, "| %s | %s | %.1f | %.1f | %s | %,.0f, %,.0f | %,d |", buffer, label(wakeups),
                    mj, ml, String.format(Locale.ROOT, mj / ml <= 0.8 ? "**%.2f**" : "%.2f", mj / ml), jRate, lRate,
                    refused);
        }
    }

    /** What the table calls a wakeup policy. */
    static String label(String wakeups) {
        long us = DELAY.toNanos() / 1000;
        return switch (wakeups) {
            case "delayed" -> "default, panbpf's batchDelay " + us + " µs vs libbpf's loop";
            case "delayed-both" -> "default, both wait " + us + " µs after a delivering poll";
            default -> wakeups;
        };
    }

    /**
     * The consumer {@code which} ("panbpf" or "libbpf") of {@code buffer} on {@code producer}'s map, sleeping
     * {@code delay} after each delivering poll (panbpf: its batch delay; libbpf: a sleep in the C loop).
     */
    static Consumer open(String buffer, String which, Producer producer, boolean batched, Duration delay) {
        long delayMicros = delay.toNanos() / 1000;
        return switch (buffer) {
            case "ring" -> which.equals("panbpf") ? new JavaRing(producer, delay)
                    : new LibbpfConsumer(LibbpfDrain.ring(producer.ring().fd(), SIZE), delayMicros);
            case "perf" -> which.equals("panbpf") ? new JavaPerf(producer, batched ? WAKEUP_EVERY : 1, delay)
                    : new LibbpfConsumer(LibbpfDrain.perf(producer.perf().fd(), DrainBenchmark.PERF_PAGES, SIZE,
                    batched ? WAKEUP_EVERY : 1), delayMicros);
            default -> throw new IllegalArgumentException("no consumer pair for buffer " + buffer);
        };
    }

    /** One run: the paced producer on PRODUCER_CPU for {@code nanos} while this thread polls. */
    static Run run(Producer producer, Consumer consumer, long nanos) throws InterruptedException {
        long gap = 1_000_000_000L * BURST / RATE;
        long start = System.nanoTime() + 1_000_000;       // the producer thread pins itself first
        long end = start + nanos;
        AtomicReference<RuntimeException> failure = new AtomicReference<>();
        Thread thread = Thread.ofPlatform().name("producer").start(() -> {
            try {
                Cpus.pinCurrentThread(PRODUCER_CPU);
                for (long next = start; next < end; next += gap) {
                    while (System.nanoTime() < next) {
                        Thread.onSpinWait();
                    }
                    producer.fill(PRODUCER_CPU);
                }
            } catch (RuntimeException e) {
                failure.set(e);
            }
        });
        long t0 = System.nanoTime();
        long[] r = consumer.pollFor(end - t0);
        double seconds = (System.nanoTime() - t0) / 1e9;
        thread.join();
        if (failure.get() != null) {
            throw failure.get();
        }
        consumer.drainRest();
        System.out.printf(Locale.ROOT, "%s: %,d events in %.2f s, %.1f ns CPU per event%n",
                consumer.getClass().getSimpleName(), r[0], seconds, (double) r[1] / r[0]);
        return new Run(r[0], r[1], seconds);
    }

    /**
     * Throws unless every record the kernel stored reached the consumer; returns how many the kernel refused for
     * want of room (a consumer held off its CPU long enough to let 16 MiB fill up: on a shared machine, noise).
     */
    static long check(String buffer, Producer producer, Consumer consumer) {
        ProducerCounters c = producer.counters();
        boolean ring = buffer.equals("ring");
        long stored = ring ? c.ringOk() : c.perfOk();
        if (stored != consumer.delivered()) {
            throw new IllegalStateException(buffer + ": the kernel stored " + stored + " records, the consumer "
                    + "got " + consumer.delivered());
        }
        // A full perf ring fails the output (perf_failed) and is also reported as LOST: count it once.
        if (!ring && consumer.lost() > c.perfFailed()) {
            throw new IllegalStateException("perf: the reader was told of " + consumer.lost() + " lost samples, the "
                    + "program saw only " + c.perfFailed() + " outputs fail");
        }
        return ring ? c.ringFailed() : c.perfFailed();
    }

    static double median(double[] values) {
        double[] v = values.clone();
        Arrays.sort(v);
        return v.length % 2 == 1 ? v[v.length / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
    }

    /** panbpf: RingBuffer.poll in a loop, with the drain benchmark's handler (first 8 bytes and the last byte). */
    static final class JavaRing implements Consumer, RecordHandler {
        final RingBuffer ring;
        long sum;

        JavaRing(Producer producer, Duration delay) {
            ring = RingBuffer.of(producer.ring());
            ring.batchDelay(delay);
        }

        @Override
        public long[] pollFor(long nanos) {
            long cpu = THREADS.getCurrentThreadCpuTime();
            long end = System.nanoTime() + nanos;
            long events = 0;
            for (long left; (left = end - System.nanoTime()) > 0; ) {
                events += ring.poll(this, Duration.ofNanos(Math.min(left, POLL_TIMEOUT_NANOS)));
            }
            return new long[] {events, THREADS.getCurrentThreadCpuTime() - cpu};
        }

        @Override
        public boolean onRecord(MemorySegment record) {
            sum += DrainBenchmark.touch(record, SIZE);
            return true;
        }

        @Override
        public void drainRest() {
            while (ring.consume(this) > 0) {
                // what the last burst left
            }
        }

        @Override
        public long delivered() {
            return ring.delivered();
        }

        @Override
        public void close() {
            ring.close();
        }
    }

    /** panbpf: PerfBuffer.poll in a loop over every CPU's buffer (as libbpf's), with the drain benchmark's handler. */
    static final class JavaPerf implements Consumer, PerfBuffer.Handler {
        final PerfBuffer perf;
        long sum;

        JavaPerf(Producer producer, int wakeupEvents, Duration delay) {
            perf = PerfBuffer.of(producer.perf(), PerfOptions.defaults().pagesPerCpu(DrainBenchmark.PERF_PAGES)
                    .wakeupEvents(wakeupEvents));
            perf.batchDelay(delay);
        }

        @Override
        public long[] pollFor(long nanos) {
            long cpu = THREADS.getCurrentThreadCpuTime();
            long end = System.nanoTime() + nanos;
            long events = 0;
            for (long left; (left = end - System.nanoTime()) > 0; ) {
                events += perf.poll(this, Duration.ofNanos(Math.min(left, POLL_TIMEOUT_NANOS)));
            }
            return new long[] {events, THREADS.getCurrentThreadCpuTime() - cpu};
        }

        @Override
        public boolean onRecord(int cpu, MemorySegment payload, long timestamp) {
            sum += DrainBenchmark.touch(payload, SIZE);
            return true;
        }

        @Override
        public void drainRest() {
            while (perf.consume(this) > 0) {
                // what the last burst left
            }
        }

        @Override
        public long delivered() {
            return perf.delivered();
        }

        @Override
        public long lost() {
            return perf.lost();
        }

        @Override
        public void close() {
            perf.close();
        }
    }

    /**
     * libbpf: ring_buffer__poll or perf_buffer__poll in a loop in C, with the drain benchmark's callback, sleeping
     * {@code delayMicros} after each poll that delivered (0: libbpf's plain loop).
     */
    static final class LibbpfConsumer implements Consumer {
        final LibbpfDrain ring;
        final long delayMicros;
        long delivered;

        LibbpfConsumer(LibbpfDrain drain, long delayMicros) {
            ring = drain;
            this.delayMicros = delayMicros;
        }

        @Override
        public long lost() {
            return ring.lost();
        }

        @Override
        public long[] pollFor(long nanos) {
            long[] r = ring.pollFor(nanos, (int) (POLL_TIMEOUT_NANOS / 1_000_000), delayMicros);
            delivered += r[0];
            return r;
        }

        @Override
        public void drainRest() {
            delivered += ring.drain();
        }

        @Override
        public long delivered() {
            return delivered;
        }

        @Override
        public void close() {
            ring.close();
        }
    }
}
