package dev.panbpf.bench;

import dev.panbpf.event.EventHandler;
import dev.panbpf.event.StructCodec;
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
import java.lang.invoke.MethodHandles;
import java.util.concurrent.TimeUnit;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED;

/**
 * DrainBenchmark times draining a buffer the kernel has just filled with {@link #RECORDS} records (the shared
 * producer, run by BPF_PROG_TEST_RUN on CPU 0, no wakeup per record ({@link #PERF_WAKEUP_EVENTS}); the consumer
 * runs on CPU 1): panbpf's RingBuffer and PerfBuffer against libbpf's
 * ring_buffer__consume and perf_buffer__consume on identically filled buffers, plus the typed path that decodes
 * each record into a Java record. Every handler reads the record's first 8 bytes and the last byte the program
 * wrote, and {@link Filled} checks the sum of what was read against the sequence numbers the kernel wrote, so a
 * drain that misses, repeats or misreads a record fails. The score is ns per record (one invocation drains
 * RECORDS records). Beside the rows of one payload size per run, the ring's mixed rows ({@link #MIXED}) drain records
 * whose size changes from each record to the next, the stream a reader's same-length fast path cannot help.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
@Warmup(iterations = 10, time = 1)
@Measurement(iterations = 10, time = 1)
public class DrainBenchmark {
    /** RECORDS is how many records each fill writes and each drain must read: 4000 × 4104 bytes fit 16 MiB. */
    public static final int RECORDS = 4000;
    /** BUFFER_BYTES is the ring buffer size and each CPU's perf buffer size: 16 MiB. */
    public static final int BUFFER_BYTES = 16 << 20;
    static final int PERF_PAGES = BUFFER_BYTES / 4096;
    /**
     * The perf events' wakeup_events in the drain rows, panbpf's and libbpf's alike: one wakeup per fill, as the
     * ring's records go with BPF_RB_NO_WAKEUP. With a wakeup per sample every sample raises an irq_work
     * (a self-IPI, a VM exit on this kind of machine): a fill took ~44 ms instead of ~0.4 ms, and the consumer's
     * CPU sat idle that long before each timed drain, which then started on cold caches.
     */
    static final int PERF_WAKEUP_EVENTS = RECORDS;
    static final int PRODUCER_CPU = 0;
    static final int CONSUMER_CPU = 1;

    static final StructCodec<Stamp> STAMP = StructCodec.of(Stamp.class, MethodHandles.lookup());

    /**
     * Reads a record the way the C callback does: first 8 bytes (the seq) plus the last of the program's
     * {@code size} bytes (a perf payload's slice also holds the kernel's padding after them).
     */
    static long touch(MemorySegment record, int size) {
        return record.get(JAVA_LONG_UNALIGNED, 0) + (record.get(JAVA_BYTE, size - 1) & 0xff);
    }

    /**
     * What {@link #touch} returns for the record with sequence number {@code seq}: producer.bpf.c writes the seq
     * in bytes 0-7 and (seq + i) & 0xff at every offset i from 24 on.
     */
    static long touched(long seq, int size) {
        int last = size - 1;
        if (last < 8) {
            return seq + ((seq >>> (8 * last)) & 0xff);
        }
        if (last < 24) {
            throw new IllegalArgumentException("no expected value for payload size " + size + " (use 8 or >= 25)");
        }
        return seq + ((seq + last) & 0xff);
    }

    /** What {@link #touch} returns summed over the {@link #RECORDS} records from sequence number {@code first} on. */
    static long touchedSum(long first, int size) {
        long sum = 0;
        for (int i = 0; i < RECORDS; i++) {
            long seq = first + i;
            sum += touched(seq, size == MIXED ? mixedSize(seq) : size);
        }
        return sum;
    }

    /**
     * MIXED is the payload size that asks producer.bpf.c for mixed sizes: record seq then has
     * {@link #mixedSize}(seq) bytes, cycling through 8, 40, 200, 1500, 72 and 3000, so no two consecutive records
     * share a length (4000 of them average 803 bytes and fit the 16 MiB buffers).
     */
    static final int MIXED = 0;
    private static final int[] MIXED_SIZES = {8, 40, 200, 1500, 72, 3000};

    /** The payload size of record {@code seq} in the mixed-size rows. */
    static int mixedSize(long seq) {
        return MIXED_SIZES[(int) (seq % MIXED_SIZES.length)];
    }

    /** Typed: the typed rows' common part; the handler adds each decoded {@link Stamp}'s seq to the sum. */
    public abstract static class Typed extends Filled implements EventHandler<Stamp> {
        @Override
        public boolean onEvent(Stamp stamp) {
            sum += stamp.seq();
            return true;
        }

        @Override
        long expectedSum(long first) {
            return RECORDS * first + (long) RECORDS * (RECORDS - 1) / 2;
        }
    }

    /** JavaRing: panbpf's RingBuffer on a filled ring. */
    @State(Scope.Thread)
    public static class JavaRing extends Filled implements RecordHandler {
        @Param({"8", "64", "512", "4096"})
        public int size;
        RingBuffer ring;

        @Setup(Level.Trial)
        public void open() {
            startProducer(Producer.RING);
            ring = RingBuffer.of(producer.ring());
        }

        @TearDown(Level.Trial)
        public void close() {
            ring.close();
            producer.close();
        }

        @Override
        public boolean onRecord(MemorySegment record) {
            sum += touch(record, size);
            return true;
        }

        @Override
        int size() {
            return size;
        }

        @Override
        long lostByReader() {
            return 0;
        }
    }

    /** LibbpfRing: libbpf's ring_buffer__consume on a filled ring. */
    @State(Scope.Thread)
    public static class LibbpfRing extends Filled {
        @Param({"8", "64", "512", "4096"})
        public int size;
        LibbpfDrain ring;

        @Setup(Level.Trial)
        public void open() {
            startProducer(Producer.RING);
            ring = LibbpfDrain.ring(producer.ring().fd(), size);
        }

        @TearDown(Level.Trial)
        public void close() {
            ring.close();
            producer.close();
        }

        @Override
        int size() {
            return size;
        }

        @Override
        long lostByReader() {
            return 0;
        }

        @Override
        long sumSoFar() {
            return ring.sum();
        }
    }

    /** TypedRing: panbpf's RingBuffer decoding each record's head into a {@link Stamp}. */
    @State(Scope.Thread)
    public static class TypedRing extends Typed {
        @Param({"64", "512", "4096"}) // a Stamp needs 24 bytes
        public int size;
        RingBuffer ring;

        @Setup(Level.Trial)
        public void open() {
            startProducer(Producer.RING);
            ring = RingBuffer.of(producer.ring());
        }

        @TearDown(Level.Trial)
        public void close() {
            ring.close();
            producer.close();
        }

        @Override
        int size() {
            return size;
        }

        @Override
        long lostByReader() {
            return 0;
        }
    }

    /** JavaPerf: panbpf's PerfBuffer on filled per-CPU rings. */
    @State(Scope.Thread)
    public static class JavaPerf extends Filled implements PerfBuffer.Handler {
        @Param({"8", "64", "512", "4096"})
        public int size;
        PerfBuffer perf;

        @Setup(Level.Trial)
        public void open() {
            startProducer(Producer.PERF);
            perf = PerfBuffer.of(producer.perf(), PerfOptions.defaults().pagesPerCpu(PERF_PAGES)
                    .wakeupEvents(PERF_WAKEUP_EVENTS));
        }

        @TearDown(Level.Trial)
        public void close() {
            perf.close();
            producer.close();
        }

        @Override
        public boolean onRecord(int cpu, MemorySegment payload, long timestamp) {
            sum += touch(payload, size);
            return true;
        }

        @Override
        int size() {
            return size;
        }

        @Override
        long lostByReader() {
            return perf.lost();
        }
    }

    /** LibbpfPerf: libbpf's perf_buffer__consume on filled per-CPU rings. */
    @State(Scope.Thread)
    public static class LibbpfPerf extends Filled {
        @Param({"8", "64", "512", "4096"})
        public int size;
        LibbpfDrain perf;

        @Setup(Level.Trial)
        public void open() {
            startProducer(Producer.PERF);
            perf = LibbpfDrain.perf(producer.perf().fd(), PERF_PAGES, size, PERF_WAKEUP_EVENTS);
        }

        @TearDown(Level.Trial)
        public void close() {
            perf.close();
            producer.close();
        }

        @Override
        int size() {
            return size;
        }

        @Override
        long lostByReader() {
            return perf.lost();
        }

        @Override
        long sumSoFar() {
            return perf.sum();
        }
    }

    /** TypedPerf: panbpf's PerfBuffer decoding each payload's head into a {@link Stamp}. */
    @State(Scope.Thread)
    public static class TypedPerf extends Typed {
        @Param({"64", "512", "4096"})
        public int size;
        PerfBuffer perf;

        @Setup(Level.Trial)
        public void open() {
            startProducer(Producer.PERF);
            perf = PerfBuffer.of(producer.perf(), PerfOptions.defaults().pagesPerCpu(PERF_PAGES)
                    .wakeupEvents(PERF_WAKEUP_EVENTS));
        }

        @TearDown(Level.Trial)
        public void close() {
            perf.close();
            producer.close();
        }

        @Override
        int size() {
            return size;
        }

        @Override
        long lostByReader() {
            return perf.lost();
        }
    }

    /** ringJava: RingBuffer.consume with a RecordHandler. */
    @Benchmark
    @OperationsPerInvocation(RECORDS)
    public long ringJava(JavaRing s) {
        s.drained = s.ring.consume(s);
        return s.sum;
    }

    /** ringLibbpf: ring_buffer__consume with a C callback. */
    @Benchmark
    @OperationsPerInvocation(RECORDS)
    public long ringLibbpf(LibbpfRing s) {
        s.drained = s.ring.drain();
        return s.drained;
    }

    /** ringJavaMixed: RingBuffer.consume over records whose sizes change from one to the next. */
    @Benchmark
    @OperationsPerInvocation(RECORDS)
    public long ringJavaMixed(MixedRing.Java s) {
        s.drained = s.ring.consume(s);
        return s.sum;
    }

    /** ringLibbpfMixed: ring_buffer__consume over records whose sizes change from one to the next. */
    @Benchmark
    @OperationsPerInvocation(RECORDS)
    public long ringLibbpfMixed(MixedRing.Libbpf s) {
        s.drained = s.ring.drain();
        return s.drained;
    }

    /** ringTyped: RingBuffer.consume decoding each record with a StructCodec. */
    @Benchmark
    @OperationsPerInvocation(RECORDS)
    public long ringTyped(TypedRing s) {
        s.drained = s.ring.consume(STAMP, s);
        return s.sum;
    }

    /** perfJava: PerfBuffer.consume with a Handler. */
    @Benchmark
    @OperationsPerInvocation(RECORDS)
    public long perfJava(JavaPerf s) {
        s.drained = s.perf.consume(s);
        return s.sum;
    }

    /** perfLibbpf: perf_buffer__consume with a C callback. */
    @Benchmark
    @OperationsPerInvocation(RECORDS)
    public long perfLibbpf(LibbpfPerf s) {
        s.drained = s.perf.drain();
        return s.drained;
    }

    /** perfTyped: PerfBuffer.consume decoding each payload with a StructCodec. */
    @Benchmark
    @OperationsPerInvocation(RECORDS)
    public long perfTyped(TypedPerf s) {
        s.drained = s.perf.consume(STAMP, s);
        return s.sum;
    }
}
