package dev.panbpf.bench;

import dev.panbpf.BpfMap;
import dev.panbpf.BpfObject;
import dev.panbpf.BpfProgram;
import dev.panbpf.bpf.BpfPrograms;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * Producer is one loaded copy of the shared producer program ({@code producer.bpf.o}) configured for a benchmark:
 * {@link #fill} runs program {@code produce} once with BPF_PROG_TEST_RUN on a chosen CPU, emitting
 * {@code count} records. A test run with repeat 1 and a large count, because each extra repeat costs a
 * millisecond-scale setup on this kernel while the program's own loop costs ~100 ns per record.
 */
final class Producer implements AutoCloseable {
    /** {@link ProducerConfig#target()} bit for the ring buffer {@code rb}. */
    static final int RING = 1;
    /** {@link ProducerConfig#target()} bit for the perf event array {@code pb}. */
    static final int PERF = 2;
    /** BPF_RB_NO_WAKEUP, for {@link ProducerConfig#rbFlags()}: submit without waking a consumer. */
    static final int NO_WAKEUP = 1;

    private final ProducerObject bpf;
    private final BpfProgram program;
    private final Arena arena = Arena.ofShared();
    private final MemorySegment packet = arena.allocate(64);

    /** Loads the producer with a {@code ringBytes} ring and sets it to emit {@code count} records per run. */
    Producer(int ringBytes, ProducerConfig config) {
        bpf = ProducerObject.of(BpfObject.open(BpfPrograms.bytes("producer.bpf.o"), "producer"));
        try {
            bpf.object().setMaxEntries("rb", ringBytes);
            bpf.load();                           // checks the generated records against the object's BTF
            DrainBenchmark.STAMP.verify(bpf.object(), "producer_record");
            bpf.updateConfig(0, config);
            program = bpf.produce();
        } catch (RuntimeException e) {
            bpf.close();
            arena.close();
            throw e;
        }
    }

    /** The ring buffer map {@code rb}. */
    BpfMap ring() {
        return bpf.rb();
    }

    /** The perf event array {@code pb}. */
    BpfMap perf() {
        return bpf.pb();
    }

    /** Runs the program once on {@code cpu}: one batch of records. Safe from several threads at once. */
    void fill(int cpu) {
        program.testRun(packet, 1, cpu);
    }

    /** The program's counters now. */
    ProducerCounters counters() {
        return bpf.lookupCounters(0);
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
        bpf.close();
        arena.close();
    }
}
