package dev.panbpf.bench;

import dev.panbpf.Cpus;

import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.TearDown;

/**
 * Filled is the common part of the drain benchmarks' states: a producer that refills its buffer with exactly
 * {@link DrainBenchmark#RECORDS} records before every invocation, and the check after it that the drain got every
 * one of them: each benchmark method stores the count its drain returned in {@link #drained}, and the handler's
 * running sum must have grown by exactly what the records' sequence numbers and pattern predict. A missing, extra
 * or misread record shows in one of the two (short of errors that cancel out in the sum, which does not see order).
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
    private long firstSeq;
    private long sumBefore;

    /** The payload size of this benchmark's records. */
    abstract int size();

    /** The handler's running sum; the libbpf states return the C callback's. */
    long sumSoFar() {
        return sum;
    }

    /** What the handler adds to its sum over the RECORDS records from sequence number {@code first} on. */
    long expectedSum(long first) {
        return DrainBenchmark.touchedSum(first, size());
    }

    /** Records the reader was told the kernel dropped (perf LOST records); 0 for a ring. */
    abstract long lostByReader();

    /**
     * Loads a producer that writes RECORDS records of size() bytes per run to {@code target}, without wakeups, and
     * pins the benchmark thread to CPU 1: records are written on CPU 0 and read on CPU 1 by every consumer alike,
     * rather than wherever the scheduler happens to put each trial. (Sys is not exported by panbpf's module; the
     * benchmarks run on the class path, where it is reachable.)
     */
    final void startProducer(int target) {
        Cpus.pinCurrentThread(DrainBenchmark.CONSUMER_CPU);
        producer = new Producer(DrainBenchmark.BUFFER_BYTES, new ProducerConfig(DrainBenchmark.RECORDS, size(), 0,
                Producer.NO_WAKEUP, target, 0));
    }

    /** Refills the buffer: one program run on the producer CPU (the test run pins it there and back). Not timed. */
    @Setup(Level.Invocation)
    public void fill() {
        drained = 0;
        firstSeq = producer.counters().seq();
        sumBefore = sumSoFar();
        producer.fill(DrainBenchmark.PRODUCER_CPU);
    }

    /** The correctness check the quick mode relies on: every record produced was drained, none lost. */
    @TearDown(Level.Invocation)
    public void check() {
        if (drained != DrainBenchmark.RECORDS) {
            throw new IllegalStateException(getClass().getSimpleName() + " size " + size() + ": drained " + drained
                    + " records of " + DrainBenchmark.RECORDS + " produced; producer " + producer.counters());
        }
        long want = expectedSum(firstSeq);
        long got = sumSoFar() - sumBefore;
        if (got != want) {
            throw new IllegalStateException(getClass().getSimpleName() + " size " + size() + ": the handler read "
                    + got + " from the records with seq " + firstSeq + ".." + (firstSeq + DrainBenchmark.RECORDS - 1)
                    + ", which hold " + want + ": a record was missed, repeated or misread");
        }
        long lost = lostByReader();
        if (lost != 0) {
            throw new IllegalStateException(getClass().getSimpleName() + " size " + size() + ": the reader reported "
                    + lost + " lost records");
        }
        producer.checkNothingFailed();
    }
}
