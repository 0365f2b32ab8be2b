package dev.panbpf.bench;

import dev.panbpf.internal.Sys;

import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.TearDown;

/**
 * Filled is the common part of the drain benchmarks' states: a producer that refills its buffer with exactly
 * {@link DrainBenchmark#RECORDS} records before every invocation, and the check after it that the drain got every
 * one of them. Each benchmark method stores the count its drain returned in {@link #drained}.
 *
 * <p>The refill runs in a Level.Invocation fixture, which JMH warns about because the timer is stopped and started
 * around every call. Here that is sound: one invocation drains thousands of records (microseconds to
 * milliseconds), so the two clock reads per invocation are noise, and the fill (the kernel writing the records,
 * ~100 ns each) must not be timed since it is the same for every consumer.
 */
public abstract class Filled {
    Producer producer;
    long drained;
    long sum; // what the handlers read from the payloads; returned to JMH so the reads cannot be dropped

    /** The payload size of this benchmark's records. */
    abstract int size();

    /** Records the reader was told the kernel dropped (perf LOST records); 0 for a ring. */
    abstract long lostByReader();

    /**
     * Loads a producer that writes RECORDS records of size() bytes per run to {@code target}, without wakeups, and
     * pins the benchmark thread to CPU 1: records are written on CPU 0 and read on CPU 1 by every consumer alike,
     * rather than wherever the scheduler happens to put each trial. (Sys is not exported by panbpf's module; the
     * benchmarks run on the class path, where it is reachable.)
     */
    final void startProducer(int target) {
        Sys.pinToCpu(DrainBenchmark.CONSUMER_CPU);
        producer = new Producer(DrainBenchmark.BUFFER_BYTES, new ProducerConfig(DrainBenchmark.RECORDS, size(), 0,
                ProducerConfig.NO_WAKEUP, target, 0));
    }

    /** Refills the buffer: one program run on the producer CPU (the test run pins it there and back). Not timed. */
    @Setup(Level.Invocation)
    public void fill() {
        drained = 0;
        producer.fill(DrainBenchmark.PRODUCER_CPU);
    }

    /** The correctness check the quick mode relies on: every record produced was drained, none lost. */
    @TearDown(Level.Invocation)
    public void check() {
        if (drained != DrainBenchmark.RECORDS) {
            throw new IllegalStateException(getClass().getSimpleName() + " size " + size() + ": drained " + drained
                    + " records of " + DrainBenchmark.RECORDS + " produced; producer " + producer.counters());
        }
        long lost = lostByReader();
        if (lost != 0) {
            throw new IllegalStateException(getClass().getSimpleName() + " size " + size() + ": the reader reported "
                    + lost + " lost records");
        }
        producer.checkNothingFailed();
    }
}
