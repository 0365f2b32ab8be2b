package dev.panbpf.vthreads;

import dev.panbpf.BpfObject;
import dev.panbpf.Cpus;
import dev.panbpf.bpf.BpfPrograms;
import dev.panbpf.perf.PerfBuffer;
import dev.panbpf.perf.PerfOptions;
import dev.panbpf.testing.Kernel;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static org.junit.jupiter.api.Assertions.*;

/**
 * A perf reader on a virtual thread sees every signal, round after round: a perf event's readiness is consumed
 * when the kernel polls it, which it may do for the shared poller's master epoll before the reader's own wait.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class VirtualThreadPerfPollTest {
    @Test
    void aPerfPollParkedOnAVirtualThreadIsWokenByEveryRecordRoundAfterRound() throws Exception {
        Kernel.requireRoot();
        List<Integer> cpus = Cpus.online().subList(0, Math.min(2, Cpus.online().size()));
        try (BpfObject object = BpfObject.open(BpfPrograms.bytes("producer.bpf.o"), "producer").load();
             Arena a = Arena.ofConfined()) {
            MemorySegment cfg = a.allocate(24);
            cfg.set(JAVA_INT, 0, 1);        // one record per run
            cfg.set(JAVA_INT, 4, 32);       // payload bytes
            cfg.set(JAVA_INT, 16, 2);       // target: the perf map
            object.map("config").update(a.allocateFrom(JAVA_INT, 0), cfg);
            MemorySegment packet = a.allocate(64);
            try (PerfBuffer pb = PerfBuffer.of(object.map("pb"), PerfOptions.defaults().cpus(cpus))) {
                AtomicInteger got = new AtomicInteger();
                Thread reader = Thread.ofVirtual().start(() -> {
                    while (!pb.isClosed()) {
                        try {
                            pb.poll((cpu, p, t) -> got.incrementAndGet() > 0, Duration.ofSeconds(30));
                        } catch (dev.panbpf.BufferClosedException closed) {
                            return;
                        }
                    }
                });
                int rounds = 300;
                for (int i = 1; i <= rounds; i++) {
                    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
                    while (reader.getState() != Thread.State.WAITING && reader.getState() != Thread.State.TIMED_WAITING
                            && System.nanoTime() < end) {
                        Thread.onSpinWait();
                    }
                    object.program("produce").testRun(packet, 1, cpus.get(i % cpus.size()));
                    while (got.get() < i && System.nanoTime() < end) {
                        Thread.sleep(1);
                    }
                    assertEquals(i, got.get(), "round " + i + ": the parked reader got the record");
                }
                pb.close();
                assertTrue(reader.join(Duration.ofSeconds(5)));
            }
        }
    }
}
