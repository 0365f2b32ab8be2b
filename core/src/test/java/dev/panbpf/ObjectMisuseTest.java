package dev.panbpf;

import dev.panbpf.testing.Kernel;
import dev.panbpf.testing.Producer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import static dev.panbpf.testing.Threads.start;
import static dev.panbpf.testing.Threads.threadCpuNanos;
import static org.junit.jupiter.api.Assertions.*;

/**
 * Objects, globals, programs and maps used around load and close: globals before load and after close, programs
 * and maps of a closed object, an interrupted close waiting for a native call, a map closed under a writer. Each
 * fails with the library's error, never a crash or a write into the wrong map (from the adversarial review; the
 * FIXED tests are defects it found).
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class ObjectMisuseTest {
    @BeforeAll
    static void root() {
        Kernel.requireRoot();
    }

    @Test
    void globalsBeforeAndAfterLoadAndAfterClose() {
        BpfObject obj = BpfObject.openResource("dev/panbpf/bpf/queue.bpf.o");
        MemorySegment before = obj.global("next_value");
        before.set(ValueLayout.JAVA_LONG, 0, 5);
        assertThrows(BpfException.class, () -> obj.global("nope"));
        assertThrows(IllegalArgumentException.class, () -> obj.setGlobal("next_value", 1));   // 4 vs 8 bytes
        obj.load();
        assertThrows(IllegalStateException.class, () -> before.get(ValueLayout.JAVA_LONG, 0));
        assertThrows(BpfException.class, obj::load);
        MemorySegment live = obj.global("next_value");
        assertEquals(5, live.get(ValueLayout.JAVA_LONG, 0));
        MemorySegment valueBuf = Arena.ofAuto().allocate(8);
        BpfMap values = obj.map("values");
        obj.close();
        obj.close();
        assertThrows(IllegalStateException.class, () -> live.get(ValueLayout.JAVA_LONG, 0));
        assertThrows(BpfException.class, () -> obj.global("next_value"));
        assertThrows(BpfException.class, () -> obj.setGlobal("next_value", 1L));
        assertThrows(BpfException.class, () -> obj.map("values"));
        assertThrows(BpfException.class, () -> obj.program("push_values"));
        assertThrows(BpfException.class, () -> values.pop(valueBuf));
        assertThrows(BpfException.class, values::fd);
    }

    @Test
    void programsAndMapsOfAClosedObjectRefuseWithALibraryError() {
        Producer p = Producer.load(0);
        BpfProgram prog = p.object.program("produce");
        BpfMap config = p.object.map("config");
        p.close();
        assertThrows(BpfException.class, () -> prog.testRun(new byte[64]));
        assertThrows(BpfException.class, prog::fd);
        assertThrows(BpfException.class, () -> prog.testRun(Arena.ofAuto().allocate(64), 1, 0));
        assertThrows(IllegalArgumentException.class, () -> prog.testRun(new byte[64], 0));
        assertThrows(BpfException.class, () -> config.lookup(Arena.ofAuto().allocateFrom(ValueLayout.JAVA_INT, 0),
                Arena.ofAuto().allocate(24)));
        assertThrows(BpfException.class, () -> config.keys().iterator().hasNext());
        assertThrows(BpfException.class, p.object::load);
        assertThrows(BpfException.class, () -> p.object.setMaxEntries("rb", 4096));
    }

    /**
     * FIXED: spin. BpfObject.close() on an interrupted thread while a global's segment is held by a native call
     * on another thread burns a CPU for as long as that call lasts (up to 10 s): Globals.closeWhenFree retries
     * arena.close() with LockSupport.parkNanos(100_000), which returns at once while the interrupt status is
     * set. (It also holds the object's monitor all that time.) Fix: clear the interrupt status for the wait and
     * restore it afterwards, or wait with Thread.sleep-free parking that ignores it, as for BusyBackoff.
     */
    @Test
    void interruptedObjectCloseSleepsWhileAGlobalIsInANativeCall() throws Exception {
        BpfObject obj = BpfObject.openResource("dev/panbpf/bpf/queue.bpf.o").load();
        try (Producer p = Producer.load(0)) {
            p.configure(1, 24, 0, 0);
            // next_value, popped_sum, popped_count: 24 bytes of .bss, enough for an XDP test packet.
            MemorySegment bss = obj.global("next_value").reinterpret(24);
            Thread runner = start("test run on a global", () -> p.object.program("produce").testRun(bss,
                    20_000_000));
            Thread.sleep(100);
            assertTrue(runner.isAlive(), "the test run ended too soon");
            long cpu0 = threadCpuNanos();
            long t0 = System.nanoTime();
            Thread.currentThread().interrupt();
            try {
                obj.close();
            } finally {
                Thread.interrupted();
            }
            long wall = System.nanoTime() - t0;
            long cpu = threadCpuNanos() - cpu0;
            runner.join(30_000);
            assertTrue(obj.isClosed());
            assertTrue(cpu < wall / 4 + 20_000_000L, "close() waited " + wall / 1_000_000 + " ms and burnt "
                    + cpu / 1_000_000 + " ms of CPU doing it");
        } finally {
            if (!obj.isClosed()) {
                obj.close();
            }
        }
    }

    /**
     * FIXED (race, probabilistic): BpfMap element operations read the fd number with fd() and then make the
     * syscall; a close() on another thread in between frees the number, and a map created meanwhile gets it,
     * so the update lands in the wrong map (Fd.get() checks, but nothing holds the fd across the call).
     * BpfMap.update/lookup/delete/push/pop via MapAttr.elem(cmd, fd(), ...). Fix: a use count on Fd (acquire
     * around the syscall, close waits or defers the close(2) until the last user leaves), like ConsumerGate.
     */
    @Test
    void mapUpdateRacingCloseNeverWritesIntoAMapThatReusedTheFd() throws Exception {
        long end = System.nanoTime() + 5_000_000_000L;
        int hits = 0;
        int rounds = 0;
        try (Arena a = Arena.ofShared()) {
            MemorySegment key = a.allocateFrom(ValueLayout.JAVA_INT, 7);
            MemorySegment value = a.allocateFrom(ValueLayout.JAVA_LONG, 42L);
            MemorySegment out = a.allocate(8);
            while (System.nanoTime() < end && hits == 0) {
                rounds++;
                BpfMap victim = BpfMap.create(MapType.HASH, 4, 8, 4, 0);
                AtomicBoolean go = new AtomicBoolean();
                Thread writer = start("writer", () -> {
                    while (!go.get()) {
                        Thread.onSpinWait();
                    }
                    try {
                        while (true) {
                            victim.update(key, value);
                        }
                    } catch (BpfException closed) {
                        // the map closed
                    }
                });
                go.set(true);
                Thread.yield();
                victim.close();
                List<BpfMap> fresh = new ArrayList<>();
                for (int i = 0; i < 4; i++) {
                    fresh.add(BpfMap.create(MapType.HASH, 4, 8, 4, 0));
                }
                writer.join();
                for (BpfMap m : fresh) {
                    if (m.lookup(key, out)) {
                        hits++;
                    }
                    m.close();
                }
            }
        }
        assertEquals(0, hits, "an update on a closed map landed in a new map that reused its fd ("
                + rounds + " rounds)");
    }
}
