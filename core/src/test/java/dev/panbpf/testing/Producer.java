package dev.panbpf.testing;

import dev.panbpf.BpfMap;
import dev.panbpf.BpfObject;
import dev.panbpf.bpf.BpfPrograms;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Producer drives the shared test producer from bpf-src ({@code producer.bpf.o}), through its generated skeleton
 * {@link ProducerObject}, for the ring buffer tests: each
 * {@link #run} makes the XDP program {@code produce} emit {@code count} records into its ring {@code rb}, and
 * {@link #check} verifies a record's bytes against what the program writes.
 */
public final class Producer implements AutoCloseable {
    /** Payload offsets: u64 seq, u64 ts, u32 cpu, u32 cpu_seq, then the pattern. */
    public static final int CPU = 16;
    public static final int CPU_SEQ = 20;
    public static final int PATTERN = 24;
    /** BPF_RB_FORCE_WAKEUP. */
    public static final int FORCE_WAKEUP = 2;
    /** {@link ProducerConfig#target()}: the ring buffer {@code rb}. */
    private static final int TARGET_RING = 1;

    /** The generated skeleton of producer.bpf.o. */
    public final ProducerObject bpf;
    public final BpfObject object;
    private final MemorySegment packet = Arena.ofAuto().allocate(64);
    private int size;

    private Producer(ProducerObject bpf) {
        this.bpf = bpf;
        this.object = bpf.object();
    }

    /** Loads the producer with a ring of {@code ringSize} bytes (0: the program's default, 256 KiB). */
    public static Producer load(int ringSize) {
        ProducerObject bpf = ProducerObject.of(BpfObject.open(BpfPrograms.bytes("producer.bpf.o"), "producer"));
        try {
            if (ringSize > 0) {
                bpf.object().setMaxEntries("rb", ringSize);
            }
            bpf.load();
            return new Producer(bpf);
        } catch (RuntimeException e) {
            bpf.close();
            throw e;
        }
    }

    /** The ring buffer map {@code rb}. */
    public BpfMap ring() {
        return bpf.rb();
    }

    /** Sets records per run, payload size, discard every k-th (0 never) and submit flags; target: ring only. */
    public Producer configure(int count, int size, int discardEvery, int flags) {
        this.size = size;
        bpf.updateConfig(0, new ProducerConfig(count, size, discardEvery, flags, TARGET_RING, 0));
        return this;
    }

    /** Runs the program {@code repeat} times on the calling thread's CPU. */
    public void run(int repeat) {
        bpf.produce().testRun(packet, repeat);
    }

    /** Runs the program {@code repeat} times on CPU {@code cpu}. */
    public void runOn(int cpu, int repeat) {
        bpf.produce().testRun(packet, repeat, cpu);
    }

    /** The program's counters now. */
    public ProducerCounters counters() {
        return bpf.lookupCounters(0);
    }

    public long seq() {
        return counters().seq();
    }

    public long ringOk() {
        return counters().ringOk();
    }

    public long ringFailed() {
        return counters().ringFailed();
    }

    public long ringDiscarded() {
        return counters().ringDiscarded();
    }

    /** Checks that {@code record} is exactly what the program writes for the configured size; returns its seq. */
    public long check(MemorySegment record) {
        assertEquals(size, record.byteSize(), "record length");
        long seq = record.get(ValueLayout.JAVA_LONG, 0);
        for (int i = PATTERN; i < size; i++) {
            byte b = record.get(ValueLayout.JAVA_BYTE, i);
            if (b != (byte) (seq + i)) {
                assertEquals((byte) (seq + i), b, "record " + seq + ", byte " + i);
            }
        }
        return seq;
    }

    @Override
    public void close() {
        bpf.close();
    }
}
