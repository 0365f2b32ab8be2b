package dev.panbpf.perf;

import dev.panbpf.BpfObject;
import dev.panbpf.Cpus;
import dev.panbpf.bpf.BpfPrograms;
import dev.panbpf.testing.Kernel;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/**
 * drops.bpf.o's perf program, run on a CPU the buffer has no reader on (the helper fails with ENOENT, which
 * only panbpf_perf_event_output counts) and past the capacity of the one ring it has (the kernel's LOST records
 * count those, and the wrapper leaves them out): every attempt is delivered, lost or a producer drop, once.
 */
class PerfProducerDropsTest {
    private static void drain(PerfBuffer perf) {
        while (perf.consume((cpu, payload, ts) -> true) > 0) {
            assertTrue(perf.delivered() > 0);
        }
    }

    @Test
    void failedOutputsAreProducerDropsAndAFullRingStaysLost() {
        Kernel.requireRoot();
        List<Integer> online = Cpus.online();
        Assumptions.assumeTrue(online.size() >= 2, "needs two online CPUs: one with a reader, one without");
        int reading = online.get(0);
        int unread = online.get(1);
        try (BpfObject obj = BpfObject.open(BpfPrograms.bytes("drops.bpf.o"), "drops").load();
             PerfBuffer perf = PerfBuffer.of(obj.map("drops_perf"),
                     PerfOptions.defaults().cpus(List.of(reading)).pagesPerCpu(1));
             Arena a = Arena.ofConfined()) {
            MemorySegment packet = a.allocate(64);
            obj.program("produce_perf").testRun(packet, 20, unread);
            assertEquals(20, perf.producerDrops(), "no reader on CPU " + unread + ": ENOENT, counted");
            assertEquals(20, obj.global("perf_failed").get(ValueLayout.JAVA_LONG, 0));

            // 400 samples of 76 bytes into one 4 KiB ring: most are lost, and not counted twice.
            obj.program("produce_perf").testRun(packet, 400, reading);
            drain(perf);
            // The kernel writes its LOST record before the next sample that finds room: send one.
            obj.program("produce_perf").testRun(packet, 1, reading);
            drain(perf);
            long attempts = obj.global("perf_attempts").get(ValueLayout.JAVA_LONG, 0);
            assertEquals(421, attempts);
            assertTrue(perf.lost() > 0, "the ring overflowed: " + perf.delivered() + " delivered");
            assertEquals(20, perf.producerDrops(), "a full ring is the kernel's LOST count, not a producer drop");
            assertEquals(attempts, perf.delivered() + perf.lost() + perf.producerDrops());
        }
    }

    @Test
    void theOrderedReaderReportsTheSameDrops() {
        Kernel.requireRoot();
        List<Integer> online = Cpus.online();
        Assumptions.assumeTrue(online.size() >= 2, "needs two online CPUs: one with a reader, one without");
        try (BpfObject obj = BpfObject.open(BpfPrograms.bytes("drops.bpf.o"), "drops").load();
             OrderedPerfBuffer ordered = OrderedPerfBuffer.of(obj.map("drops_perf"),
                     PerfOptions.defaults().cpus(List.of(online.get(0))));
             Arena a = Arena.ofConfined()) {
            obj.program("produce_perf").testRun(a.allocate(64), 7, online.get(1));
            assertEquals(7, ordered.producerDrops());
        }
    }
}
