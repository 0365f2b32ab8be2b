package dev.panbpf;

import dev.panbpf.bpf.BpfPrograms;
import dev.panbpf.ringbuf.RingBuffer;
import dev.panbpf.testing.Kernel;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Map sizes are the kernel's u32 values, unsigned: a 2 GiB ring buffer (max_entries 2^31, a negative int) is
 * created, reported and read like any other, and a size a u32 cannot hold is refused instead of wrapped.
 */
class UnsignedSizesTest {
    private static final long TWO_GIB = 1L << 31;

    @BeforeAll
    static void root() {
        Kernel.requireRoot();
    }

    @Test
    void twoGibRingBufferMadeWithCreateOpensAndReads() {
        try (BpfMap ring = BpfMap.create(MapType.RINGBUF, 0, 0, TWO_GIB, 0, "big_ring")) {
            assertEquals(TWO_GIB, ring.maxEntries());
            try (RingBuffer rb = RingBuffer.of(ring)) {
                assertEquals(0, rb.consume(r -> fail("a new ring has no records")));
            }
        }
    }

    @Test
    void twoGibRingBufferOfAnObjectCarriesRecords() {
        try (BpfObject obj = BpfObject.open(BpfPrograms.bytes("producer.bpf.o"), "producer")) {
            obj.setMaxEntries("rb", TWO_GIB).load();
            BpfMap ring = obj.map("rb");
            assertEquals(TWO_GIB, ring.maxEntries());
            try (Arena a = Arena.ofConfined(); RingBuffer rb = RingBuffer.of(ring)) {
                MemorySegment cfg = a.allocate(24);
                cfg.set(ValueLayout.JAVA_INT, 0, 3);          // count
                cfg.set(ValueLayout.JAVA_INT, 4, 64);         // size
                cfg.set(ValueLayout.JAVA_INT, 16, 1);         // target: the ring
                obj.map("config").update(a.allocateFrom(ValueLayout.JAVA_INT, 0), cfg);
                obj.program("produce").testRun(new byte[64]);
                List<Long> seqs = new ArrayList<>();
                assertEquals(3, rb.consume(r -> seqs.add(r.get(ValueLayout.JAVA_LONG, 0)) || true));
                assertEquals(List.of(0L, 1L, 2L), seqs);
            }
        }
    }

    @Test
    void sizesAU32CannotHoldAreRefusedNotWrapped() {
        for (long bad : new long[] {-1, 1L << 32}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> BpfMap.create(MapType.HASH, 4, 4, bad, 0, "wraps"));
            assertTrue(e.getMessage().contains("'wraps'") && e.getMessage().contains("4294967295"), e.getMessage());
            assertThrows(IllegalArgumentException.class, () -> BpfMap.create(MapType.HASH, bad, 4, 1, 0, "k"));
            assertThrows(IllegalArgumentException.class, () -> BpfMap.create(MapType.HASH, 4, bad, 1, 0, "v"));
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> BpfMap.create(MapType.RINGBUF, 0, 0, 3L << 30, 0, "odd"));
        assertTrue(e.getMessage().contains("power of two") && e.getMessage().contains("e.g. 2147483648"),
                e.getMessage());
        try (BpfObject obj = BpfObject.open(BpfPrograms.bytes("producer.bpf.o"), "producer")) {
            e = assertThrows(IllegalArgumentException.class, () -> obj.setMaxEntries("counters", 1L << 32));
            assertTrue(e.getMessage().contains("'counters'") && e.getMessage().contains("u32"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> obj.setMaxEntries("rb", 1L << 32));
            assertTrue(e.getMessage().contains("'rb'"), e.getMessage());
        }
    }
}
