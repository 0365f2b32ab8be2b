package dev.panbpf;

import dev.panbpf.bindings.sys_mman_h;
import dev.panbpf.internal.Fd;
import dev.panbpf.internal.Sys;
import dev.panbpf.testing.Kernel;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** The foundation against the real kernel: raw map creation, ring buffer mmap rules, errors, fd hygiene. */
class SyscallLayerTest {
    private static final int RING = 16 * 4096;

    @BeforeAll
    static void root() {
        Kernel.requireRoot();
    }

    @Test
    void createsRingBufferAndPerfEventArrayMaps() {
        try (BpfMap ring = BpfMap.create(MapType.RINGBUF, 0, 0, RING, 0, "rb");
             BpfMap perf = BpfMap.create(MapType.PERF_EVENT_ARRAY, 4, 4, Cpus.possible().size(), 0, "pe")) {
            assertTrue(ring.fd() > 2);
            assertTrue(perf.fd() > 2);
            // The kernel agrees with what we asked for.
            BpfMap seen = BpfMap.describe(ring.fd(), "rb");
            assertEquals(MapType.RINGBUF, seen.mapType());
            assertEquals(RING, seen.maxEntries());
            BpfMap seenPerf = BpfMap.describe(perf.fd(), "pe");
            assertEquals(MapType.PERF_EVENT_ARRAY, seenPerf.mapType());
            assertEquals(4, seenPerf.keySize());
        }
    }

    @Test
    void mapsConsumerPageWritableAndProducerPagePlusDataReadOnly() {
        long page = Sys.PAGE_SIZE;
        try (BpfMap ring = BpfMap.create(MapType.RINGBUF, 0, 0, RING, 0, "rb"); Arena arena = Arena.ofShared()) {
            int rw = sys_mman_h.PROT_READ() | sys_mman_h.PROT_WRITE();
            MemorySegment consumer = Sys.mmap(arena, page, rw, ring.fd(), 0, "consumer page");
            MemorySegment producer = Sys.mmap(arena, page + 2L * RING, sys_mman_h.PROT_READ(), ring.fd(), page,
                    "producer page and data");
            assertEquals(0L, consumer.get(ValueLayout.JAVA_LONG, 0));
            consumer.set(ValueLayout.JAVA_LONG, 0, 0L);           // the consumer page really is writable
            assertEquals(0L, producer.get(ValueLayout.JAVA_LONG, 0));
            assertEquals(page + 2L * RING, producer.byteSize());
            // The data area is mapped twice: the byte after the end is the first byte again.
            assertEquals(producer.get(ValueLayout.JAVA_BYTE, page), producer.get(ValueLayout.JAVA_BYTE, page + RING));

            BpfException e = assertThrows(BpfException.class,
                    () -> Sys.mmap(arena, page + 2L * RING, rw, ring.fd(), page, "producer page and data"));
            assertEquals("EPERM", e.errnoName());
            assertTrue(e.getMessage().contains("read-only"), e.getMessage());
        }
    }

    @Test
    void refusesRingSizesTheKernelCannotTake() {
        for (int bad : new int[]{3 * 4096, 4096 + 8, 100, 0}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> BpfMap.create(MapType.RINGBUF, 0, 0, bad, 0, "rb"));
            assertTrue(e.getMessage().contains("power of two") && e.getMessage().contains("page size"),
                    e.getMessage());
        }
        IllegalArgumentException neg = assertThrows(IllegalArgumentException.class,
                () -> BpfMap.create(MapType.HASH, -4, 4, 16, 0, "h"));
        assertTrue(neg.getMessage().contains("negative"), neg.getMessage());
    }

    @Test
    void kernelErrorsNameTheErrnoAndTheOperation() {
        // A hash map with 0-byte keys is refused by the kernel itself.
        BpfException e = assertThrows(BpfException.class, () -> BpfMap.create(MapType.HASH, 0, 4, 16, 0, "h"));
        assertEquals("EINVAL", e.errnoName());
        assertTrue(e.getMessage().contains("BPF_MAP_CREATE") && e.getMessage().contains("EINVAL"), e.getMessage());
        // bpf(2) on an fd that is not a map.
        try (Arena a = Arena.ofConfined()) {
            BpfException badFd = assertThrows(BpfException.class,
                    () -> dev.panbpf.internal.MapAttr.info(a, 0x7fff, "fd 32767"));
            // Kernels before 6.11 say EBADF here, newer ones EBADFD.
            assertTrue(List.of("EBADF", "EBADFD").contains(badFd.errnoName()), badFd.getMessage());
            assertTrue(badFd.getMessage().contains("fd 32767"), badFd.getMessage());
        }
    }

    @Test
    void closedMapGivesAClearErrorNotAReusedFd() {
        BpfMap m = BpfMap.create(MapType.ARRAY, 4, 4, 4, 0, "arr");
        m.update(1, 42);
        assertEquals(42, m.lookupInt(1));
        m.close();
        m.close();                                         // closing twice is harmless
        BpfException e = assertThrows(BpfException.class, () -> m.lookupInt(1));
        assertTrue(e.getMessage().contains("closed"), e.getMessage());
    }

    @Test
    void wrongKeyOrValueSizeIsRefusedBeforeAnySyscall() {
        try (BpfMap m = BpfMap.create(MapType.HASH, 4, 8, 4, 0, "h"); Arena a = Arena.ofConfined()) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> m.update(a.allocate(8), a.allocate(8)));
            assertTrue(e.getMessage().contains("4-byte keys"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> m.update(a.allocate(4), a.allocate(4)));
            assertTrue(e.getMessage().contains("8-byte values"), e.getMessage());
        }
    }

    @Test
    void noFdLeaksAcrossAThousandOpenCloseCycles() {
        int before = Kernel.openFds();
        for (int i = 0; i < 1000; i++) {
            try (BpfMap ring = BpfMap.create(MapType.RINGBUF, 0, 0, 4096, 0, "rb"); Arena a = Arena.ofShared()) {
                Sys.mmap(a, Sys.PAGE_SIZE, sys_mman_h.PROT_READ(), ring.fd(), 0, "consumer page");
            }
            new Fd(Sys.eventfd(), "eventfd").close();
        }
        assertEquals(before, Kernel.openFds(), "fds leaked");
    }

    @Test
    void fdClosesExactlyOnceFromAnyThread() throws Exception {
        int before = Kernel.openFds();
        Fd fd = new Fd(Sys.eventfd(), "eventfd");
        Thread[] ts = new Thread[4];
        for (int i = 0; i < ts.length; i++) {
            ts[i] = new Thread(fd::close);
            ts[i].start();
        }
        for (Thread t : ts) {
            t.join();
        }
        assertTrue(fd.isClosed());
        assertEquals(before, Kernel.openFds());
    }

    @Test
    void listsCpus() {
        assertEquals(List.of(0, 1, 2, 3, 5, 7, 8), Cpus.parse("0-3,5,7-8\n"));
        assertEquals(List.of(0), Cpus.parse("0"));
        assertThrows(IllegalArgumentException.class, () -> Cpus.parse("3-1"));
        assertThrows(IllegalArgumentException.class, () -> Cpus.parse("a"));
        List<Integer> online = Cpus.online();
        assertFalse(online.isEmpty());
        assertEquals(Runtime.getRuntime().availableProcessors() <= Cpus.possible().size(), true);
        assertTrue(Cpus.possible().containsAll(online));
    }
}
