package dev.panbpf;

import dev.panbpf.bpf.BpfPrograms;
import dev.panbpf.testing.Kernel;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import static org.junit.jupiter.api.Assertions.*;

/** The shared producer from bpf-src, loaded through libbpf and driven by BPF_PROG_TEST_RUN. */
class ProducerProgramTest {
    /** struct producer_counters: u64 seq, ring_ok, ring_failed, ring_discarded, perf_ok, perf_failed. */
    private static final int SEQ = 0;
    private static final int RING_OK = 8;
    private static final int RING_FAILED = 16;
    private static final int RING_DISCARDED = 24;
    private static final int PERF_FAILED = 40;

    @BeforeAll
    static void root() {
        Kernel.requireRoot();
    }

    /** Writes struct producer_config { count, size, discard_every, rb_flags, target, pad } into map config. */
    static void configure(BpfObject obj, int count, int size, int discardEvery, int target) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment cfg = a.allocate(24);
            cfg.set(ValueLayout.JAVA_INT, 0, count);
            cfg.set(ValueLayout.JAVA_INT, 4, size);
            cfg.set(ValueLayout.JAVA_INT, 8, discardEvery);
            cfg.set(ValueLayout.JAVA_INT, 12, 0);
            cfg.set(ValueLayout.JAVA_INT, 16, target);
            obj.map("config").update(a.allocateFrom(ValueLayout.JAVA_INT, 0), cfg);
        }
    }

    static long counter(BpfObject obj, int offset) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment v = a.allocate(48);
            assertTrue(obj.map("counters").lookup(a.allocateFrom(ValueLayout.JAVA_INT, 0), v));
            return v.get(ValueLayout.JAVA_LONG, offset);
        }
    }

    @Test
    void runsTheProducerAndCountsItsRecordsInTheCountersMap() {
        try (BpfObject obj = BpfObject.open(BpfPrograms.bytes("producer.bpf.o"), "producer")) {
            obj.load();
            configure(obj, 3, 64, 0, 1);
            BpfProgram.RunResult r = obj.program("produce").testRun(new byte[64], 10);
            assertEquals(2, r.retval(), "XDP_PASS");
            assertEquals(30, counter(obj, SEQ));
            assertEquals(30, counter(obj, RING_OK) + counter(obj, RING_FAILED));
            assertEquals(0, counter(obj, RING_DISCARDED));
        }
    }

    @Test
    void discardsEveryKthRingRecordAndCountsPerfFailuresWithoutAReader() {
        try (BpfObject obj = BpfObject.openResource("dev/panbpf/bpf/producer.bpf.o")) {
            obj.load();
            configure(obj, 10, 100, 5, 3);
            obj.program("produce").testRun(new byte[64], 2);
            assertEquals(20, counter(obj, SEQ));
            assertEquals(4, counter(obj, RING_DISCARDED));
            assertEquals(16, counter(obj, RING_OK));
            // No perf event is installed in pb for this CPU, so every output fails (and is counted).
            assertEquals(20, counter(obj, PERF_FAILED));
        }
    }
}
