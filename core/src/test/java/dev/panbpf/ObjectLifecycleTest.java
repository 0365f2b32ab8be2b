package dev.panbpf;

import dev.panbpf.testing.Kernel;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.*;

/** Opening, loading and closing objects leaves nothing behind: no fd, no mapping, no attached link. */
class ObjectLifecycleTest {
    private static final int CYCLES = 1000;

    @BeforeAll
    static void root() {
        Kernel.requireRoot();
    }

    @Test
    void thousandOpenLoadCloseCyclesLeakNoFdAndNoMapping() {
        // One cycle first, so that one-time state (libbpf's probes, class loading, log setup) is not counted.
        cycle(0);
        int fds = Kernel.openFds();
        long mappings = Kernel.mappings();
        long mapMappings = bpfMapMappings();
        for (int i = 1; i <= CYCLES; i++) {
            cycle(i);
        }
        assertEquals(fds, Kernel.openFds(), "file descriptors after " + CYCLES + " cycles");
        assertEquals(mapMappings, bpfMapMappings(), "mappings of BPF maps after " + CYCLES + " cycles");
        // The JVM maps memory of its own as it runs (heap, code cache, malloc arenas): allow a few, far fewer
        // than one per cycle (libbpf's anonymous initial-value buffers would leak one or two per cycle).
        assertTrue(Kernel.mappings() - mappings < 16, "mappings grew from " + mappings + " to " + Kernel.mappings());
    }

    private static long bpfMapMappings() {
        try {
            return Files.readAllLines(Path.of("/proc/self/maps")).stream().filter(l -> l.contains("bpf-map")).count();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Open, configure, load, touch every map, program and live global, then close. */
    private static void cycle(int i) {
        try (BpfObject obj = BpfObject.openResource("dev/panbpf/bpf/queue.bpf.o")) {
            obj.setGlobal("push_count", 3).setGlobal("next_value", (long) i).load();
            assertEquals(6, obj.maps().size() + obj.programs().size() + 1);
            obj.program("push_values").testRun(new byte[64]);
            assertEquals(i + 3L, obj.global("next_value").get(ValueLayout.JAVA_LONG, 0));
            assertEquals((long) i, obj.map("values").popLong());
        }
    }

    @Test
    void closingTheObjectDetachesItsLinks() {
        Kernel.requireTracefs();
        BpfLink link;
        try (BpfObject obj = BpfObject.openResource("dev/panbpf/bpf/syscalls.bpf.o").load()) {
            link = obj.program("count_sys_enter").attach();
            assertFalse(link.isClosed());
        }
        assertTrue(link.isClosed());
        link.close();
    }
}
