package dev.panbpf.bench;

import dev.panbpf.BpfMap;
import dev.panbpf.BpfObject;
import dev.panbpf.BpfProgram;
import dev.panbpf.bpf.BpfPrograms;
import dev.panbpf.event.StructCodec;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandles;

/**
 * Producer is one loaded copy of the shared producer program ({@code producer.bpf.o}) configured for a benchmark:
 * {@link #fill} runs program {@code produce} once with BPF_PROG_TEST_RUN on a chosen CPU, emitting
 * {@code count} records. A test run with repeat 1 and a large count, because each extra repeat costs a
 * millisecond-scale setup on this kernel while the program's own loop costs ~100 ns per record.
 */
final class Producer implements AutoCloseable {
    private static final StructCodec<ProducerConfig> CONFIG =
            StructCodec.of(ProducerConfig.class, MethodHandles.lookup());
    private static final StructCodec<ProducerCounters> COUNTERS =
            StructCodec.of(ProducerCounters.class, MethodHandles.lookup());

    private final BpfObject object;
    private final BpfProgram program;
    private final Arena arena = Arena.ofShared();
    private final MemorySegment packet = arena.allocate(64);
    private final MemorySegment key = arena.allocate(4);
    private final MemorySegment counters = arena.allocate(COUNTERS.layout());

    /** Loads the producer with a {@code ringBytes} ring and sets it to emit {@code count} records per run. */
    Producer(int ringBytes, ProducerConfig config) {
        object = BpfObject.open(BpfPrograms.bytes("producer.bpf.o"), "producer");
        try {
            object.setMaxEntries("rb", ringBytes);
            object.load();
            CONFIG.verify(object, "producer_config");
            COUNTERS.verify(object, "producer_counters");
            DrainBenchmark.STAMP.verify(object, "producer_record");
            object.map("config").update(key, CONFIG.encode(config, arena));
            program = object.program("produce");
        } catch (RuntimeException e) {
            object.close();
            arena.close();
            throw e;
        }
    }

    /** The ring buffer map {@code rb}. */
    BpfMap ring() {
        return object.map("rb");
    }

    /** The perf event array {@code pb}. */
    BpfMap perf() {
        return object.map("pb");
    }

    /** Runs the program once on {@code cpu}: one batch of records. Safe from several threads at once. */
    void fill(int cpu) {
        program.testRun(packet, 1, cpu);
    }

    /** The program's counters now. */
    ProducerCounters counters() {
        synchronized (counters) {
            object.map("counters").lookup(key, counters);
            return COUNTERS.decode(counters);
        }
    }

    /** Throws unless the kernel stored every record the program tried to send. */
    void checkNothingFailed() {
        ProducerCounters c = counters();
        if (c.ringFailed() != 0 || c.perfFailed() != 0) {
            throw new IllegalStateException("the producer lost records at the source: " + c);
        }
    }

    @Override
    public void close() {
        object.close();
        arena.close();
    }
}
