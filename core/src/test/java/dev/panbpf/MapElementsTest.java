package dev.panbpf;

import dev.panbpf.bindings.bpf_h;
import dev.panbpf.testing.Kernel;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.HashSet;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.*;

/** BpfMap element operations beyond lookup/update: key iteration, update flags, long keys, per-CPU values. */
class MapElementsTest {
    @BeforeAll
    static void root() {
        Kernel.requireRoot();
    }

    @Test
    void keysVisitsEveryKeyOnce() {
        try (BpfMap hash = BpfMap.create(MapType.HASH, 8, 8, 64, 0, "h")) {
            Set<Long> put = new HashSet<>();
            for (long k = 10; k < 40; k += 3) {
                hash.update(k, k * k, bpf_h.BPF_ANY());
                put.add(k);
            }
            Set<Long> seen = new HashSet<>();
            for (MemorySegment key : hash.keys()) {
                assertTrue(seen.add(key.get(ValueLayout.JAVA_LONG, 0)));
            }
            assertEquals(put, seen);
            assertEquals(13L * 13, hash.lookupLong(13L));
            assertTrue(hash.delete(13L));
            assertFalse(hash.delete(13L));
            assertNull(hash.lookupLong(13L));
        }
    }

    @Test
    void updateFlagsRefuseToCreateOrToReplace() {
        try (BpfMap hash = BpfMap.create(MapType.HASH, 4, 4, 8, 0, "h")) {
            BpfException missing = assertThrows(BpfException.class, () -> hash.update(1, 1, bpf_h.BPF_EXIST()));
            assertEquals("ENOENT", missing.errnoName());
            hash.update(1, 1, bpf_h.BPF_NOEXIST());
            BpfException present = assertThrows(BpfException.class, () -> hash.update(1, 2, bpf_h.BPF_NOEXIST()));
            assertEquals("EEXIST", present.errnoName());
            hash.update(1, 3, bpf_h.BPF_EXIST());
            assertEquals(3, hash.lookupInt(1));
        }
    }

    @Test
    void intAndLongLookupsRefuseAMapWhoseValuesAreAnotherWidth() {
        try (BpfMap narrow = BpfMap.create(MapType.HASH, 4, 4, 8, 0, "narrow");
             BpfMap wide = BpfMap.create(MapType.HASH, 8, 8, 8, 0, "wide");
             BpfMap percpu = BpfMap.create(MapType.PERCPU_ARRAY, 4, 4, 1, 0, "pc")) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> narrow.lookupLong(1));
            assertTrue(e.getMessage().contains("4-byte values") && e.getMessage().contains("Use lookupInt"),
                    e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> wide.lookupInt(1));
            assertTrue(e.getMessage().contains("'wide'") && e.getMessage().contains("Use lookupLong"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> percpu.lookupInt(0));
            assertTrue(e.getMessage().contains("per-CPU"), e.getMessage());
        }
    }

    @Test
    void perCpuValuesHaveOneSlotPerPossibleCpu() {
        int cpus = Cpus.possible().size();
        try (BpfMap percpu = BpfMap.create(MapType.PERCPU_ARRAY, 4, 4, 1, 0, "p"); Arena a = Arena.ofConfined()) {
            assertEquals(8L * cpus, percpu.valueBufferSize());
            MemorySegment key = a.allocateFrom(ValueLayout.JAVA_INT, 0);
            MemorySegment values = a.allocate(percpu.valueBufferSize());
            for (int c = 0; c < cpus; c++) {
                values.set(ValueLayout.JAVA_INT, 8L * c, 100 + c);
            }
            percpu.update(key, values);
            MemorySegment back = a.allocate(percpu.valueBufferSize());
            assertTrue(percpu.lookup(key, back));
            assertEquals(-1, values.mismatch(back));
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> percpu.lookup(key, a.allocate(4)));
            assertTrue(e.getMessage().contains("per possible CPU"), e.getMessage());
        }
    }

    @Test
    void heapSegmentsAndWrongSizesAreRefusedBeforeAnySyscall() {
        try (BpfMap hash = BpfMap.create(MapType.HASH, 4, 4, 8, 0, "h")) {
            MemorySegment heap = MemorySegment.ofArray(new int[1]);
            assertTrue(assertThrows(IllegalArgumentException.class, () -> hash.update(heap, heap))
                    .getMessage().contains("native"));
            assertTrue(assertThrows(IllegalArgumentException.class, () -> hash.update(1L, 1L, 0))
                    .getMessage().contains("4-byte keys"));
        }
    }
}
