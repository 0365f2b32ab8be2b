package dev.panbpf.bench;

import dev.panbpf.perf.OrderedPerfBuffer;
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
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.lang.foreign.MemorySegment;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import static java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED;

/**
 * OrderingBenchmark: two producers pinned on CPUs 0 and 1 run at the same time, each writing
 * {@link #PER_CPU} 64-byte records stamped with the global sequence number (an atomic add in BPF) and the time;
 * then one drain reads them all. The score is ns per record of the drain (ring buffer, raw perf buffer with
 * timestamps on, ordered perf reader: ordered minus perf is the ordered reader's added cost); the {@link Order}
 * counters say how far the delivery order strayed from the sequence order.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
@Warmup(iterations = 25, time = 1)  // the ordered reader's poll and flush paths take ~15 s to settle in the JIT
@Measurement(iterations = 10, time = 1)
public class OrderingBenchmark {
    /** PER_CPU is how many records each of the two producers writes per fill. */
    public static final int PER_CPU = 2000;
    static final int TOTAL = 2 * PER_CPU;
    static final int SIZE = 64;
    static final int CPUS = 2;

    /** Rig holds one buffer kind, its producer, and the sequence numbers of the last drain in delivery order. */
    @State(Scope.Thread)
    public static class Rig implements RecordHandler, PerfBuffer.Handler, OrderedPerfBuffer.Handler {
        @Param({"ring", "perf", "ordered"})
        public String buffer;

        Producer producer;
        RingBuffer ring;
        PerfBuffer perf;
        OrderedPerfBuffer ordered;
        final long[] seqs = new long[TOTAL];
        final long[] stamps = new long[TOTAL];
        final boolean[] lateAt = new boolean[TOTAL];
        int n;
        long late;

        @Setup(Level.Trial)
        public void open() {
            if (Runtime.getRuntime().availableProcessors() < CPUS) {
                throw new IllegalStateException("the ordering benchmark needs CPUs 0 and 1");
            }
            boolean isRing = buffer.equals("ring");
            producer = new Producer(4 << 20, new ProducerConfig(PER_CPU, SIZE, 0, Producer.NO_WAKEUP,
                    isRing ? Producer.RING : Producer.PERF, 0));
            PerfOptions options = PerfOptions.defaults().pagesPerCpu(1024).timestamps(true);
            switch (buffer) {
                case "ring" -> ring = RingBuffer.of(producer.ring());
                case "perf" -> perf = PerfBuffer.of(producer.perf(), options);
                case "ordered" -> ordered = OrderedPerfBuffer.of(producer.perf(), options);
                default -> throw new IllegalArgumentException("buffer must be ring, perf or ordered: " + buffer);
            }
        }

        @TearDown(Level.Trial)
        public void close() {
            if (ring != null) {
                ring.close();
            }
            if (perf != null) {
                perf.close();
            }
            if (ordered != null) {
                ordered.close();
            }
            producer.close();
        }

        /** Runs both producers at once, one pinned thread per CPU started together. Not timed. */
        @Setup(Level.Invocation)
        public void fill() throws InterruptedException {
            n = 0;
            late = 0;
            CountDownLatch go = new CountDownLatch(1);
            AtomicReference<RuntimeException> failure = new AtomicReference<>();
            Thread[] threads = new Thread[CPUS];
            for (int cpu = 0; cpu < CPUS; cpu++) {
                int c = cpu;
                threads[cpu] = new Thread(() -> {
                    try {
                        go.await();
                        producer.fill(c);
                    } catch (RuntimeException e) {
                        failure.set(e);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                });
                threads[cpu].start();
            }
            go.countDown();
            for (Thread t : threads) {
                t.join();
            }
            if (failure.get() != null) {
                throw failure.get();
            }
        }

        /** Checks that the drain got every record and adds its ordering to {@code order}. Not timed. */
        @TearDown(Level.Invocation)
        public void check(Order order) {
            if (n != TOTAL) {
                throw new IllegalStateException(buffer + ": drained " + n + " of " + TOTAL + " records; producer "
                        + producer.counters());
            }
            long lost = perf != null ? perf.lost() : ordered != null ? ordered.lost() : 0;
            if (lost != 0) {
                throw new IllegalStateException(buffer + ": " + lost + " records reported lost");
            }
            producer.checkNothingFailed();
            if (ordered != null) {
                checkTimestampOrder();
            }
            order.add(seqs, n, late);
        }

        /** OrderedPerfBuffer's promise: apart from events flagged late, timestamps never go backwards. */
        private void checkTimestampOrder() {
            long last = Long.MIN_VALUE;
            for (int i = 0; i < n; i++) {
                if (lateAt[i]) {
                    continue;
                }
                if (stamps[i] < last) {
                    throw new IllegalStateException("ordered: event " + i + " (seq " + seqs[i] + ") has timestamp "
                            + stamps[i] + ", before the " + last + " released ahead of it, and is not flagged late");
                }
                last = stamps[i];
            }
        }

        /**
         * The ordered reader is driven as a user drives it: one poll pass releases what the ordering rule allows
         * (everything up to the oldest of the CPUs' newest stamps), and the flush releases the held tail.
         */
        int drain() {
            return switch (buffer) {
                case "ring" -> ring.consume(this);
                case "perf" -> perf.consume((PerfBuffer.Handler) this);
                default -> ordered.poll(this, Duration.ZERO) + ordered.flush(this);
            };
        }

        private void see(MemorySegment payload, long timestamp, boolean isLate) {
            if (n < TOTAL) {
                seqs[n] = payload.get(JAVA_LONG_UNALIGNED, 0);
                stamps[n] = timestamp;
                lateAt[n] = isLate;
            }
            n++;
        }

        @Override
        public boolean onRecord(MemorySegment record) {
            see(record, 0, false);
            return true;
        }

        @Override
        public boolean onRecord(int cpu, MemorySegment payload, long timestamp) {
            see(payload, timestamp, false);
            return true;
        }

        @Override
        public boolean onRecord(int cpu, MemorySegment payload, long timestamp, boolean isLate) {
            see(payload, timestamp, isLate);
            if (isLate) {
                late++;
            }
            return true;
        }
    }

    /** drain: reads both CPUs' records with the chosen buffer; ns per record. */
    @Benchmark
    @OperationsPerInvocation(TOTAL)
    public int drain(Rig rig) {
        return rig.drain();
    }
}
