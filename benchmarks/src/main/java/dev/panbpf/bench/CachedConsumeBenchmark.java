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
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.concurrent.TimeUnit;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * CachedConsumeBenchmark isolates what {@link DrainBenchmark} cannot: the consumers' own instructions. The kernel fills
 * the buffer once; before every invocation the consumer position (ring consumer_pos, perf data_tail) is rewound to
 * where it was, so each drain reads the same {@link DrainBenchmark#RECORDS} records again, already in this CPU's
 * cache. What remains is the consume loop, panbpf's and libbpf's alike, without the cost of pulling the records
 * across from the producer's CPU (which is the same for both and dominates, and varies, in DrainBenchmark).
 * Rewinding is something only a benchmark does: it reaches the Java readers' position fields by reflection
 * (RingBuffer.reader, RingReader.consumerPage/consumerPos, PerfBuffer.set, PerfCpuSet.rings, PerfCursor.page), so
 * renaming those fields breaks this benchmark at setup, loudly. Its name must not contain "DrainBenchmark.": the
 * Report tool picks DrainBenchmark's rows by that string.
 *
 * <p>What it showed (2 shared vCPUs, JDK 25; benchmarks/results): with the records in cache the Java perf loop
 * costs 1-1.5 ns per record more than libbpf's; the ring loop cost 1.3-2x libbpf's while it stored consumer_pos
 * per record and read headers through the shared arena's segment, and about half of libbpf's since it does neither
 * and checks runs of one length at once (benchmarks/HOT-LOOPS.md).
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
public class CachedConsumeBenchmark {
    static final long CONSUMER_POS = 0;     // in a ring's consumer page
    static final long DATA_TAIL = 1032;     // in a perf_event_mmap_page
    static final VarHandle POSITION = JAVA_LONG.varHandle();

    static Object field(Object owner, String name) {
        try {
            return MethodHandles.privateLookupIn(owner.getClass(), MethodHandles.lookup())
                    .findVarHandle(owner.getClass(), name, owner.getClass().getDeclaredField(name).getType())
                    .get(owner);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException(e);
        }
    }

    private static final MethodHandle MMAP = Linker.nativeLinker().downcallHandle(
            Linker.nativeLinker().defaultLookup().find("mmap").orElseThrow(),
            FunctionDescriptor.of(ADDRESS, ADDRESS, JAVA_LONG, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_LONG));

    /** Maps a ring's consumer page read-write with a downcall of its own (libbpf's consumer is not ours to rewind). */
    static MemorySegment mapConsumerPage(Arena arena, int fd) {
        long page = Cpus.pageSize();
        try {
            MemorySegment at = (MemorySegment) MMAP.invokeExact(MemorySegment.NULL, page, 3 /* READ|WRITE */,
                    1 /* MAP_SHARED */, fd, 0L);
            if (at.address() == -1L) {
                throw new IllegalStateException("mmap of the consumer page of ring fd " + fd + " failed");
            }
            return at.reinterpret(page, arena, null);
        } catch (Throwable e) {
            throw new IllegalStateException(e);
        }
    }

    /** Rewound: the common part; subclasses open a consumer, and rewind() puts its position back. */
    public abstract static class Rewound {
        Producer producer;
        long drained;
        long sum;
        private long want;      // what one drain of the filled buffer adds to the handler's sum
        private long sumBefore;

        abstract void rewind();

        abstract int size();

        /** The handler's running sum; the libbpf states return the C callback's. */
        long sumSoFar() {
            return sum;
        }

        /** Loads the producer and fills the buffer once; the same records are drained again and again. */
        final void start(int target) {
            Cpus.pinCurrentThread(DrainBenchmark.CONSUMER_CPU);
            producer = new Producer(DrainBenchmark.BUFFER_BYTES, new ProducerConfig(DrainBenchmark.RECORDS, size(), 0,
                    Producer.NO_WAKEUP, target, 0));
            want = DrainBenchmark.touchedSum(producer.counters().seq(), size());
        }

        @Setup(Level.Invocation)
        public void before() {
            drained = 0;
            sumBefore = sumSoFar();
            rewind();
        }

        /** Every record once per drain: the count, and the sum of what the handler read from them. */
        @TearDown(Level.Invocation)
        public void after() {
            long got = sumSoFar() - sumBefore;
            if (drained != DrainBenchmark.RECORDS || got != want) {
                throw new IllegalStateException(getClass().getSimpleName() + " size " + size() + ": drained "
                        + drained + " of " + DrainBenchmark.RECORDS + " records, read " + got + " where they hold "
                        + want + "; producer " + producer.counters());
            }
        }
    }

    /** JavaRing: RingBuffer.consume, its reader rewound. */
    @State(Scope.Thread)
    public static class JavaRing extends Rewound implements RecordHandler {
        @Param({"8", "64", "512", "4096"})
        public int size;
        RingBuffer ring;
        Object reader;
        MemorySegment page;
        VarHandle readerPos;

        @Setup(Level.Trial)
        public void open() throws ReflectiveOperationException {
            start(Producer.RING);
            ring = RingBuffer.of(producer.ring());
            producer.fill(DrainBenchmark.PRODUCER_CPU);
            reader = field(ring, "reader");
            page = (MemorySegment) field(reader, "consumerPage");
            readerPos = MethodHandles.privateLookupIn(reader.getClass(), MethodHandles.lookup())
                    .findVarHandle(reader.getClass(), "consumerPos", long.class);
        }

        @Override
        int size() {
            return size;
        }

        @Override
        void rewind() {
            POSITION.setRelease(page, CONSUMER_POS, 0L);
            readerPos.set(reader, 0L);
        }

        @TearDown(Level.Trial)
        public void close() {
            ring.close();
            producer.close();
        }

        @Override
        public boolean onRecord(MemorySegment record) {
            sum += DrainBenchmark.touch(record, size);
            return true;
        }
    }

    /** LibbpfRing: ring_buffer__consume, consumer_pos rewound through a mapping of our own. */
    @State(Scope.Thread)
    public static class LibbpfRing extends Rewound {
        @Param({"8", "64", "512", "4096"})
        public int size;
        LibbpfDrain ring;
        Arena arena;
        MemorySegment page;

        @Setup(Level.Trial)
        public void open() {
            start(Producer.RING);
            ring = LibbpfDrain.ring(producer.ring().fd(), size);
            producer.fill(DrainBenchmark.PRODUCER_CPU);
            arena = Arena.ofShared();
            page = mapConsumerPage(arena, producer.ring().fd());
        }

        @Override
        int size() {
            return size;
        }

        @Override
        long sumSoFar() {
            return ring.sum();
        }

        @Override
        void rewind() {
            POSITION.setRelease(page, CONSUMER_POS, 0L);
        }

        @TearDown(Level.Trial)
        public void close() {
            ring.close();
            arena.close();
            producer.close();
        }
    }

    /** JavaPerf: PerfBuffer.consume, CPU 0's data_tail rewound. */
    @State(Scope.Thread)
    public static class JavaPerf extends Rewound implements PerfBuffer.Handler {
        @Param({"8", "64", "512", "4096"})
        public int size;
        PerfBuffer perf;
        MemorySegment page;

        @Setup(Level.Trial)
        public void open() {
            start(Producer.PERF);
            perf = PerfBuffer.of(producer.perf(), PerfOptions.defaults()
                    .pagesPerCpu(DrainBenchmark.PERF_PAGES));
            producer.fill(DrainBenchmark.PRODUCER_CPU);
            Object set = field(perf, "set");
            Object[] rings = (Object[]) field(set, "rings");
            page = (MemorySegment) field(rings[0], "page");
        }

        @Override
        int size() {
            return size;
        }

        @Override
        void rewind() {
            POSITION.setRelease(page, DATA_TAIL, 0L);
        }

        @TearDown(Level.Trial)
        public void close() {
            perf.close();
            producer.close();
        }

        @Override
        public boolean onRecord(int cpu, MemorySegment payload, long timestamp) {
            sum += DrainBenchmark.touch(payload, size);
            return true;
        }
    }

    /** LibbpfPerf: perf_buffer__consume, CPU 0's data_tail rewound. */
    @State(Scope.Thread)
    public static class LibbpfPerf extends Rewound {
        @Param({"8", "64", "512", "4096"})
        public int size;
        LibbpfDrain perf;
        MemorySegment page;

        @Setup(Level.Trial)
        public void open() {
            start(Producer.PERF);
            perf = LibbpfDrain.perf(producer.perf().fd(), DrainBenchmark.PERF_PAGES, size);
            producer.fill(DrainBenchmark.PRODUCER_CPU);
            page = perf.perfPage(0);
        }

        @Override
        int size() {
            return size;
        }

        @Override
        long sumSoFar() {
            return perf.sum();
        }

        @Override
        void rewind() {
            POSITION.setRelease(page, DATA_TAIL, 0L);
        }

        @TearDown(Level.Trial)
        public void close() {
            perf.close();
            producer.close();
        }
    }

    /** ringJava: RingBuffer.consume over records already in cache. */
    @Benchmark
    @OperationsPerInvocation(DrainBenchmark.RECORDS)
    public long ringJava(JavaRing s) {
        s.drained = s.ring.consume(s);
        return s.sum;
    }

    /** ringLibbpf: ring_buffer__consume over records already in cache. */
    @Benchmark
    @OperationsPerInvocation(DrainBenchmark.RECORDS)
    public long ringLibbpf(LibbpfRing s) {
        s.drained = s.ring.drain();
        return s.drained;
    }

    /** perfJava: PerfBuffer.consume over records already in cache. */
    @Benchmark
    @OperationsPerInvocation(DrainBenchmark.RECORDS)
    public long perfJava(JavaPerf s) {
        s.drained = s.perf.consume(s);
        return s.sum;
    }

    /** perfLibbpf: perf_buffer__consume over records already in cache. */
    @Benchmark
    @OperationsPerInvocation(DrainBenchmark.RECORDS)
    public long perfLibbpf(LibbpfPerf s) {
        s.drained = s.perf.drain();
        return s.drained;
    }
}
