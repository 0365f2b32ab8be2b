package dev.panbpf.bench;

import dev.panbpf.Cpus;
import dev.panbpf.perf.PerfBuffer;
import dev.panbpf.perf.PerfOptions;
import dev.panbpf.ringbuf.RecordHandler;
import dev.panbpf.ringbuf.RingBuffer;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.lang.foreign.MemorySegment;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import static java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED;

/**
 * EndToEndBenchmark: producers on 1 or 2 CPUs run program {@code produce} back to back (test runs of 256 64-byte
 * records, one pinned thread per CPU) while the benchmark thread polls, for as long as the trial lasts. The
 * {@link Flow} counters give events delivered and lost per second. Buffers: a 16 MiB ring buffer, or a perf
 * buffer of 16 MiB per CPU. Wakeups: {@code default} is the ring's adaptive wakeup and a perf wakeup per event
 * (libbpf's default); {@code batched} submits ring records with BPF_RB_NO_WAKEUP and forces a wakeup on every
 * {@link #BATCH}-th record (the producer's wakeup_every), and sets perf wakeup_events to {@link #BATCH}.
 * With one producer CPU the polling thread is pinned to CPU 1; on a 2-CPU machine the 2-CPU case shares both CPUs
 * between the producers and the consumer, which the scheduler places. Lost events are read from the producer's
 * counters map at most once per {@link #LOST_EVERY} (a syscall per poll would tax the default-wakeup rows, which poll
 * far more often), so an iteration's lost count may lag by that much at its edges; the trial's teardown checks
 * that every event the kernel stored reached Java.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 2)
public class EndToEndBenchmark {
    static final int PER_RUN = 256;
    static final int SIZE = 64;
    /** BATCH is how many records a batched wakeup covers. */
    static final int BATCH = 64;
    static final Duration TIMEOUT = Duration.ofMillis(1);
    static final long LOST_EVERY = Duration.ofMillis(10).toNanos();

    /** Stream is one buffer kind with its running producers. */
    @State(Scope.Thread)
    public static class Stream implements RecordHandler, PerfBuffer.Handler {
        @Param({"ring", "perf"})
        public String buffer;
        @Param({"1", "2"})
        public int cpus;
        @Param({"default", "batched"})
        public String wakeups;

        Producer producer;
        RingBuffer ring;
        PerfBuffer perf;
        long sum;
        long lostSoFar;
        long lostReadAt;
        private Thread[] threads;
        private volatile boolean running;
        private final AtomicReference<RuntimeException> failure = new AtomicReference<>();

        @Setup(Level.Trial)
        public void start() {
            boolean batched = wakeups.equals("batched");
            boolean isRing = buffer.equals("ring");
            producer = new Producer(DrainBenchmark.BUFFER_BYTES, new ProducerConfig(PER_RUN, SIZE, 0,
                    batched ? Producer.NO_WAKEUP : 0, isRing ? Producer.RING : Producer.PERF,
                    batched ? BATCH : 0));
            if (isRing) {
                ring = RingBuffer.of(producer.ring());
            } else {
                perf = PerfBuffer.of(producer.perf(), PerfOptions.defaults()
                        .pagesPerCpu(DrainBenchmark.PERF_PAGES).wakeupEvents(batched ? BATCH : 1));
            }
            if (cpus == 1) {
                Cpus.pinCurrentThread(1);  // the consumer beside the producer on CPU 0, as in the drain benchmark
            }
            running = true;
            threads = new Thread[cpus];
            for (int cpu = 0; cpu < cpus; cpu++) {
                int c = cpu;
                threads[cpu] = new Thread(() -> {
                    try {
                        Cpus.pinCurrentThread(c);  // once, so each fill runs where it is without moving the thread
                        while (running) {
                            producer.fill(c);
                        }
                    } catch (RuntimeException e) {
                        failure.set(e);
                    }
                }, "producer-cpu-" + cpu);
                threads[cpu].setDaemon(true);
                threads[cpu].start();
            }
        }

        /** Stops the producers, drains the rest, and checks that every event stored reached Java exactly once. */
        @TearDown(Level.Trial)
        public void stop() throws InterruptedException {
            running = false;
            for (Thread t : threads) {
                t.join();
            }
            try {
                if (failure.get() != null) {
                    throw failure.get();
                }
                // consume, not poll: a perf CPU left with fewer than BATCH unread events raises no wakeup
                while ((ring != null ? ring.consume(this) : perf.consume(this)) > 0) {
                    // drain what the producers left
                }
                ProducerCounters c = producer.counters();
                long stored = ring != null ? c.ringOk() : c.perfOk();
                long delivered = ring != null ? ring.delivered() : perf.delivered();
                if (stored != delivered) {
                    throw new IllegalStateException(buffer + ": the kernel stored " + stored + " events but "
                            + delivered + " reached Java; " + c);
                }
            } finally {
                if (ring != null) {
                    ring.close();
                }
                if (perf != null) {
                    perf.close();
                }
                producer.close();
            }
        }

        int poll() {
            return ring != null ? ring.poll(this, TIMEOUT) : perf.poll(this, TIMEOUT);
        }

        /**
         * Events lost since the last reading: failed ring reserves, or perf events the kernel dropped; 0 between
         * readings, which happen once per LOST_EVERY.
         */
        long newLost() {
            long t = System.nanoTime();
            if (t - lostReadAt < LOST_EVERY) {
                return 0;
            }
            lostReadAt = t;
            long now;
            if (ring != null) {
                now = producer.counters().ringFailed();
            } else {
                now = Math.max(perf.lost(), producer.counters().perfFailed());
            }
            long d = now - lostSoFar;
            lostSoFar = now;
            return d;
        }

        @Override
        public boolean onRecord(MemorySegment record) {
            sum += record.get(JAVA_LONG_UNALIGNED, 0);
            return true;
        }

        @Override
        public boolean onRecord(int cpu, MemorySegment payload, long timestamp) {
            sum += payload.get(JAVA_LONG_UNALIGNED, 0);
            return true;
        }
    }

    /** poll: one poll of the Java consumer (up to 1 ms wait); the Flow counters carry the results. */
    @Benchmark
    public long poll(Stream s, Flow f) {
        f.delivered += s.poll();
        f.lost += s.newLost();
        return s.sum;
    }
}
