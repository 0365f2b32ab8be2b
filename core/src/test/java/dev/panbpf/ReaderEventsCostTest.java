package dev.panbpf;

import dev.panbpf.perf.OrderedPerfBuffer;
import dev.panbpf.perf.PerfBuffer;
import dev.panbpf.perf.PerfOptions;
import dev.panbpf.ringbuf.RecordHandler;
import dev.panbpf.ringbuf.RingBuffer;
import dev.panbpf.ringbuf.RingBufferPoller;
import dev.panbpf.testing.Kernel;
import dev.panbpf.testing.Producer;
import jdk.jfr.FlightRecorder;
import jdk.jfr.RecordingState;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.lang.reflect.Method;
import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What the JFR hooks cost a consumer while no recording takes panbpf events: once the JIT has compiled the
 * consume path, a pass allocates nothing (the event instance the enabled check makes is scalar-replaced).
 * Allocation is read from com.sun.management.ThreadMXBean by reflection: the tests compile inside module
 * dev.panbpf, which does not read jdk.management; the boxing of the readings themselves is a few bytes.
 */
class ReaderEventsCostTest {
    private static final int PASSES = 100_000;
    private static final Object THREADS;
    private static final Method ALLOCATED_BYTES;

    static {
        try {
            THREADS = Class.forName("java.lang.management.ManagementFactory").getMethod("getThreadMXBean")
                    .invoke(null);
            ALLOCATED_BYTES = Class.forName("com.sun.management.ThreadMXBean")
                    .getMethod("getCurrentThreadAllocatedBytes");
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    @BeforeAll
    static void root() {
        Kernel.requireRoot();
    }

    @Test
    void compiledPassesOfEveryReaderAllocateNothingWhileNoRecordingTakesTheEvents() {
        assertTrue(FlightRecorder.isAvailable());
        assertFalse(running(), "no recording runs in this JVM now");
        RecordHandler record = r -> true;
        OrderedPerfBuffer.Handler ordered = (cpu, p, t, late) -> true;
        try (Producer producer = Producer.load(0)) {
            BpfMap pb = producer.object.map("pb");
            try (RingBuffer ring = RingBuffer.of(producer.ring())) {
                assertAllocationFree("RingBuffer.consume", () -> ring.consume(record));
                assertAllocationFree("RingBuffer.poll", () -> ring.poll(record, Duration.ZERO));
            }
            try (RingBufferPoller poller = RingBufferPoller.builder().add(producer.ring(), record).build()) {
                assertAllocationFree("RingBufferPoller.consume", poller::consume);
            }
            PerfBuffer.Handler sample = (cpu, p, t) -> true;
            try (PerfBuffer perf = PerfBuffer.of(pb, PerfOptions.defaults().pagesPerCpu(1))) {
                // consume only: poll runs the same pass, plus an epoll_wait(0) downcall whose allocation is the JDK's.
                assertAllocationFree("PerfBuffer.consume", () -> perf.consume(sample));
            }
            try (OrderedPerfBuffer perf = OrderedPerfBuffer.of(pb, PerfOptions.defaults().pagesPerCpu(1))) {
                assertAllocationFree("OrderedPerfBuffer.flush", () -> perf.flush(ordered));
            }
        }
    }

    /** Runs {@code pass} until the JIT has compiled it, and checks that it then allocates less than 1 byte a run. */
    private static void assertAllocationFree(String what, Runnable pass) {
        long allocated = Long.MAX_VALUE;
        int rounds = 0;
        while (rounds < 50 && allocated >= 1024) {
            long before = allocatedBytes();
            for (int i = 0; i < PASSES; i++) {
                pass.run();
            }
            allocated = allocatedBytes() - before;
            rounds++;
        }
        // An object per pass would be at least 16 bytes a pass; the readings' own boxes are a few dozen bytes.
        assertTrue(allocated < 1024, what + ": " + allocated + " bytes allocated by " + PASSES + " passes after "
                + rounds + " rounds of warm-up");
    }

    private static long allocatedBytes() {
        try {
            return (long) ALLOCATED_BYTES.invoke(THREADS);
        } catch (ReflectiveOperationException e) {
            throw new AssertionError(e);
        }
    }

    private static boolean running() {
        return FlightRecorder.isInitialized() && FlightRecorder.getFlightRecorder().getRecordings().stream()
                .anyMatch(r -> r.getState() == RecordingState.RUNNING);
    }
}
