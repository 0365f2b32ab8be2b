package dev.panbpf.testing;

import dev.panbpf.BpfMap;
import dev.panbpf.BpfObject;
import dev.panbpf.bpf.BpfPrograms;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Producer drives the shared test producer from bpf-src ({@code producer.bpf.o}) for the ring buffer tests: each
 * {@link #run} makes the XDP program {@code produce} emit {@code count} records into its ring {@code rb}, and
 * {@link #check} verifies a record's bytes against what the program writes.
 */
public final class Producer implements AutoCloseable {
    /** struct producer_counters offsets. */
    private static final int SEQ = 0;
    private static final int RING_OK = 8;
    private static final int RING_FAILED = 16;
    private static final int RING_DISCARDED = 24;
    /** Payload offsets: u64 seq, u64 ts, u32 cpu, u32 cpu_seq, then the pattern. */
    public static final int CPU = 16;
    public static final int CPU_SEQ = 20;
    public static final int PATTERN = 24;
    /** BPF_RB_FORCE_WAKEUP. */
    public static final int FORCE_WAKEUP = 2;

    public final BpfObject object;
    private final MemorySegment packet = Arena.ofAuto().allocate(64);
    private int size;

    private Producer(BpfObject object) {
        this.object = object;
    }

    /** Loads the producer with a ring of {@code ringSize} bytes (0: the program's default, 256 KiB). */
    public static Producer load(int ringSize) {
        BpfObject obj = BpfObject.open(BpfPrograms.bytes("producer.bpf.o"), "producer");
        try {
            if (ringSize > 0) {
                obj.setMaxEntries("rb", ringSize);
            }
            obj.load();
            return new Producer(obj);
        } catch (RuntimeException e) {
            obj.close();
            throw e;
        }
    }

    /** The ring buffer map {@code rb}. */
    public BpfMap ring() {
        return object.map("rb");
    }

    /** Sets records per run, payload size, discard every k-th (0 never) and submit flags; target: ring only. */
    public Producer configure(int count, int size, int discardEvery, int flags) {
        this.size = size;
        try (Arena a = Arena.ofConfined()) {
            MemorySegment cfg = a.allocate(24);
            cfg.set(ValueLayout.JAVA_INT, 0, count);
            cfg.set(ValueLayout.JAVA_INT, 4, size);
            cfg.set(ValueLayout.JAVA_INT, 8, discardEvery);
            cfg.set(ValueLayout.JAVA_INT, 12, flags);
            cfg.set(ValueLayout.JAVA_INT, 16, 1);
            object.map("config").update(a.allocateFrom(ValueLayout.JAVA_INT, 0), cfg);
        }
        return this;
    }

    /** Runs the program {@code repeat} times on the calling thread's CPU. */
    public void run(int repeat) {
        object.program("produce").testRun(packet, repeat);
    }

    /** Runs the program {@code repeat} times on CPU {@code cpu}. */
    public void runOn(int cpu, int repeat) {
        object.program("produce").testRun(packet, repeat, cpu);
    }

    public long seq() {
        return counter(SEQ);
    }

    public long ringOk() {
        return counter(RING_OK);
    }

    public long ringFailed() {
        return counter(RING_FAILED);
    }

    public long ringDiscarded() {
        return counter(RING_DISCARDED);
    }

    private long counter(int offset) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment v = a.allocate(48);
            object.map("counters").lookup(a.allocateFrom(ValueLayout.JAVA_INT, 0), v);
            return v.get(ValueLayout.JAVA_LONG, offset);
        }
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
        object.close();
    }
}
