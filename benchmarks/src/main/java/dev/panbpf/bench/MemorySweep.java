package dev.panbpf.bench;

import dev.panbpf.Cpus;
import dev.panbpf.perf.PerfBuffer;
import dev.panbpf.perf.PerfOptions;
import dev.panbpf.ringbuf.RecordHandler;
import dev.panbpf.ringbuf.RingBuffer;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;

import static java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED;

/**
 * MemorySweep answers "how much buffer does zero loss take?": for each buffer kind and target event rate, it
 * runs a paced producer on CPU 0 (bursts of {@link #BURST} 64-byte records) against one Java consumer pinned on
 * CPU 1 woken once per {@link #WAKEUP_EVERY} events, doubling the buffer from {@link #MIN_BYTES} until {@link #CLEAN_RUNS} runs in a
 * row lose nothing. One producer CPU keeps the consumer from competing with producers for a CPU (on this 2-CPU
 * machine that competition, not the buffer, would decide the loss). A perf buffer is allocated on every online
 * CPU whether or not that CPU produces, so its memory is the per-CPU size times the CPUs. Not a JMH score: the
 * answer is a size, written as a Markdown table. Usage: {@code java --enable-native-access=ALL-UNNAMED -cp benchmarks.jar
 * dev.panbpf.bench.MemorySweep [out.md] [seconds-per-run]}.
 */
public final class MemorySweep {
    static final int BURST = 256;
    /**
     * WAKEUP_EVERY is how many events each wakeup covers, the same for both buffers (ring: BPF_RB_NO_WAKEUP with a
     * forced wakeup on every 64th record; perf: wakeup_events 64): a wakeup per event costs the producer more than
     * the buffer's size matters, and the ring's adaptive wakeup degrades to that when the consumer keeps up.
     */
    static final int WAKEUP_EVERY = 64;
    static final int SIZE = 64;
    static final int CPUS = dev.panbpf.Cpus.online().size();
    static final int PRODUCER_CPU = 0;
    static final int CONSUMER_CPU = 1;
    static final int CLEAN_RUNS = 2;
    static final int MIN_BYTES = 16 << 10;
    static final int MAX_BYTES = 64 << 20;
    static final long[] RATES = {100_000, 1_000_000, Long.MAX_VALUE};

    /** One run's outcome: what the producers offered and how much of it was lost. */
    record Run(long offered, long lost, double seconds) {
        double rate() {
            return offered / seconds;
        }
    }

    public static void main(String[] args) throws IOException, InterruptedException {
        Path out = Path.of(args.length > 0 ? args[0] : "benchmarks/results/memory.md");
        Duration each = Duration.ofMillis((long) (1000 * (args.length > 1 ? Double.parseDouble(args[1]) : 2.0)));
        if (Runtime.getRuntime().availableProcessors() < 2) {
            throw new IllegalStateException("the memory sweep runs the producer on CPU 0 and the consumer on CPU 1");
        }
        Cpus.pinCurrentThread(CONSUMER_CPU);
        List<String> lines = new ArrayList<>();
        lines.add("Buffer memory for zero loss: a producer on CPU " + PRODUCER_CPU + " writing bursts of " + BURST
                + " " + SIZE + "-byte records, one Java consumer on CPU " + CONSUMER_CPU + " woken once per "
                + WAKEUP_EVERY + " events, "
                + "the smallest power-of-two size with " + CLEAN_RUNS + " loss-free runs of "
                + each.toMillis() / 1000.0 + " s in a row (a perf buffer is per CPU: its total is " + CPUS
                + " times that here, and grows with the machine's CPU count):");
        lines.add("");
        lines.add("| target rate | buffer | smallest zero-loss size | memory in total | achieved rate | lost at half that size |");
        lines.add("|---|---|---:|---:|---:|---:|");
        for (long rate : RATES) {
            for (String kind : new String[] {"ring", "perf"}) {
                String line = sweep(kind, rate, each);
                System.out.println(line);
                lines.add(line);
            }
        }
        Files.createDirectories(out.toAbsolutePath().getParent());
        Files.writeString(out, String.join("\n", lines) + "\n");
    }

    /** Doubles the buffer until one run loses nothing; returns the table row. */
    static String sweep(String kind, long rate, Duration each) throws InterruptedException {
        Run below = null;
        for (int bytes = MIN_BYTES; bytes <= MAX_BYTES; bytes *= 2) {
            Run run = run(kind, bytes, rate, each);
            for (int i = 1; i < CLEAN_RUNS && run.lost() == 0; i++) {
                run = run(kind, bytes, rate, each);
            }
            if (run.lost() == 0) {
                long total = kind.equals("ring") ? bytes : (long) bytes * CPUS;
                return String.format(Locale.ROOT, "| %s | %s | %s%s | %s | %,.0f ev/s | %s |", rateName(rate), kind,
                        size(bytes), kind.equals("ring") ? "" : " per CPU", size(total), run.rate(),
                        below == null ? "–" : lostShare(below));
            }
            below = run;
        }
        return String.format(Locale.ROOT, "| %s | %s | over %s | – | %,.0f ev/s | %s |", rateName(rate), kind,
                size(MAX_BYTES), below.rate(), lostShare(below));
    }

    /** One run: a paced producer on PRODUCER_CPU for {@code each}, then a full drain. */
    static Run run(String kind, int bytes, long rate, Duration each) throws InterruptedException {
        boolean ring = kind.equals("ring");
        int page = (int) Cpus.pageSize();
        int perfBytes = Math.max(bytes, page);
        try (Producer producer = new Producer(ring ? bytes : page,
                new ProducerConfig(BURST, SIZE, 0, ring ? Producer.NO_WAKEUP : 0,
                        ring ? Producer.RING : Producer.PERF, ring ? WAKEUP_EVERY : 0));
             Sink sink = new Sink(producer, ring, perfBytes / page)) {
            long gapNanos = rate == Long.MAX_VALUE ? 0 : 1_000_000_000L * BURST / rate;
            long start = System.nanoTime();
            long end = start + each.toNanos();
            AtomicReference<RuntimeException> failure = new AtomicReference<>();
            Thread thread = Thread.ofPlatform().name("producer").start(() -> {
                try {
                    Cpus.pinCurrentThread(PRODUCER_CPU);
                    // Bursts on a fixed schedule; a producer that falls behind it runs flat out.
                    for (long next = start; next < end; next = Math.max(next + gapNanos, System.nanoTime() - gapNanos)) {
                        producer.fill(PRODUCER_CPU);
                        long wait = next + gapNanos - System.nanoTime();
                        if (wait > 0) {
                            LockSupport.parkNanos(wait);
                        }
                    }
                } catch (RuntimeException e) {
                    failure.set(e);
                }
            });
            while (System.nanoTime() < end) {
                sink.poll(Duration.ofMillis(10));
            }
            thread.join();
            double seconds = (System.nanoTime() - start) / 1e9;
            if (failure.get() != null) {
                throw failure.get();
            }
            while (sink.consume() > 0) {
                // the rest of what the producer stored (consume reads below the perf wakeup threshold too)
            }
            ProducerCounters c = producer.counters();
            long stored = ring ? c.ringOk() : c.perfOk();
            long lost = ring ? c.ringFailed() : Math.max(c.perfFailed(), sink.lostByReader());
            if (sink.delivered != stored) {
                throw new IllegalStateException(kind + " " + bytes + " B: the kernel stored " + stored
                        + " events but " + sink.delivered + " reached Java");
            }
            return new Run(stored + lost, lost, seconds);
        }
    }

    /** The consumer side of one run: a RingBuffer or a PerfBuffer that counts what it sees. */
    static final class Sink implements RecordHandler, PerfBuffer.Handler, AutoCloseable {
        final RingBuffer ring;
        final PerfBuffer perf;
        long delivered;
        long sum;

        Sink(Producer producer, boolean isRing, int pagesPerCpu) {
            ring = isRing ? RingBuffer.of(producer.ring()) : null;
            perf = isRing ? null : PerfBuffer.of(producer.perf(), PerfOptions.defaults().pagesPerCpu(pagesPerCpu)
                    .wakeupEvents(WAKEUP_EVERY));
        }

        int poll(Duration timeout) {
            return ring != null ? ring.poll(this, timeout) : perf.poll(this, timeout);
        }

        int consume() {
            return ring != null ? ring.consume(this) : perf.consume((PerfBuffer.Handler) this);
        }

        long lostByReader() {
            return perf == null ? 0 : perf.lost();
        }

        @Override
        public boolean onRecord(MemorySegment record) {
            delivered++;
            sum += record.get(JAVA_LONG_UNALIGNED, 0);
            return true;
        }

        @Override
        public boolean onRecord(int cpu, MemorySegment payload, long timestamp) {
            delivered++;
            sum += payload.get(JAVA_LONG_UNALIGNED, 0);
            return true;
        }

        @Override
        public void close() {
            if (ring != null) {
                ring.close();
            }
            if (perf != null) {
                perf.close();
            }
        }
    }

    static String lostShare(Run run) {
        return String.format(Locale.ROOT, "%,d (%.3f %%)", run.lost(), 100.0 * run.lost() / run.offered());
    }

    static String rateName(long rate) {
        return rate == Long.MAX_VALUE ? "flat out" : String.format(Locale.ROOT, "%,d ev/s", rate);
    }

    static String size(long bytes) {
        return bytes >= 1 << 20 ? (bytes >> 20) + " MiB" : (bytes >> 10) + " KiB";
    }
}
