package dev.panbpf.ringbuf;

import dev.panbpf.testing.Kernel;
import dev.panbpf.testing.Producer;
import jdk.jfr.FlightRecorder;
import jdk.jfr.RecordingState;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.lang.reflect.Method;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What the JFR hooks cost a consumer while no recording takes panbpf events: once the JIT has compiled the
 * consume path, a pass allocates nothing (the event instance the enabled check makes is scalar-replaced).
 * Allocation is read from com.sun.management.ThreadMXBean by reflection: the tests compile inside module
 * dev.panbpf, which does not read jdk.management; the boxing of the readings themselves is a few bytes.
 */
class RingEventsCostTest {
    private static final int PASSES = 100_000;

    @BeforeAll
    static void root() {
        Kernel.requireRoot();
    }

    @Test
    void compiledPassesAllocateNothingWhileNoRecordingTakesTheEvents() throws ReflectiveOperationException {
        Object threads = Class.forName("java.lang.management.ManagementFactory").getMethod("getThreadMXBean")
                .invoke(null);
        Method allocatedBytes = Class.forName("com.sun.management.ThreadMXBean")
                .getMethod("getCurrentThreadAllocatedBytes");
        assertTrue(FlightRecorder.isAvailable());
        try (Producer producer = Producer.load(0); RingBuffer ring = RingBuffer.of(producer.ring())) {
            assertFalse(running(), "no recording runs in this JVM now");
            assertFalse(RingEvents.wanted());
            RecordHandler handler = r -> true;
            long allocated = Long.MAX_VALUE;
            int rounds = 0;
            for (int round = 0; round < 50 && allocated >= 1024; round++) {
                long before = (long) allocatedBytes.invoke(threads);
                for (int i = 0; i < PASSES; i++) {
                    ring.consume(handler);
                }
                allocated = (long) allocatedBytes.invoke(threads) - before;
                rounds = round + 1;
            }
            // An object per pass would be at least 16 bytes a pass; the readings' own boxes are a few dozen.
            assertTrue(allocated < 1024, allocated + " bytes allocated by " + PASSES + " passes after " + rounds
                    + " rounds of warm-up");
        }
    }

    private static boolean running() {
        return FlightRecorder.isInitialized() && FlightRecorder.getFlightRecorder().getRecordings().stream()
                .anyMatch(r -> r.getState() == RecordingState.RUNNING);
    }
}
