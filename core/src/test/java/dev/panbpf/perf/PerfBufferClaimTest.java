package dev.panbpf.perf;

import dev.panbpf.BpfException;
import dev.panbpf.BpfMap;
import dev.panbpf.Cpus;
import dev.panbpf.testing.Kernel;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.time.Duration;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/**
 * One reader per PERF_EVENT_ARRAY in a process: each stores its events at key = CPU, so a second one would
 * take the first one's entries and closing either would delete the other's. The second is refused, whichever
 * kind each is and whichever fd names the map.
 */
class PerfBufferClaimTest {
    private static final MethodHandle DUP = Linker.nativeLinker().downcallHandle(
            Linker.nativeLinker().defaultLookup().find("dup").orElseThrow(),
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));
    private static final MethodHandle CLOSE = Linker.nativeLinker().downcallHandle(
            Linker.nativeLinker().defaultLookup().find("close").orElseThrow(),
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));

    private PerfProducer producer;
    private int cpu;
    private int received;
    private final PerfBuffer.Handler count = (c, p, t) -> ++received > 0;

    @BeforeAll
    static void root() {
        Kernel.requireRoot();
    }

    @BeforeEach
    void load() {
        producer = new PerfProducer().configure(1, 16);
        cpu = Cpus.online().getFirst();
    }

    @AfterEach
    void unload() {
        producer.close();
    }

    private PerfOptions one() {
        return PerfOptions.defaults().cpus(List.of(cpu));
    }

    @Test
    void aSecondPerfBufferOnTheSameMapIsRefusedAndTheFirstKeepsItsEntries() {
        long[] perf = PerfLeaks.now();
        try (PerfBuffer first = PerfBuffer.of(producer.pb(), one())) {
            long[] opened = PerfLeaks.now();
            BpfException e = assertThrows(BpfException.class, () -> PerfBuffer.of(producer.pb(), one()));
            assertTrue(e.getMessage().startsWith("perf buffer on " + producer.pb())
                    && e.getMessage().contains("is already read by perf buffer on")
                    && e.getMessage().contains("per-CPU entries") && e.getMessage().contains("map (id "),
                    e.getMessage());
            PerfLeaks.assertBackTo(opened);
            producer.run(cpu, 1);
            assertEquals(1, first.consume(count), "the first buffer's entry is still the one in the map");
        }
        PerfLeaks.assertBackTo(perf);
    }

    @Test
    void anOrderedReaderAndAPerfBufferOnOneMapAreRefusedEitherWay() {
        try (OrderedPerfBuffer ordered = OrderedPerfBuffer.of(producer.pb(), one())) {
            BpfException e = assertThrows(BpfException.class, () -> PerfBuffer.of(producer.pb(), one()));
            assertTrue(e.getMessage().contains("already read by ordered perf buffer on"), e.getMessage());
            producer.run(cpu, 1);
            assertEquals(1, ordered.poll((c, p, t, late) -> true, Duration.ofSeconds(5)));
        }
        try (PerfBuffer plain = PerfBuffer.of(producer.pb(), one())) {
            BpfException e = assertThrows(BpfException.class, () -> OrderedPerfBuffer.of(producer.pb(), one()));
            assertTrue(e.getMessage().startsWith("ordered perf buffer on")
                    && e.getMessage().contains("already read by perf buffer on"), e.getMessage());
            producer.run(cpu, 1);
            assertEquals(1, plain.consume(count));
        }
    }

    @Test
    void anotherFdOfTheSameMapIsRefusedToo() throws Throwable {
        int copy = (int) DUP.invokeExact(producer.pb().fd());
        assertTrue(copy >= 0, "dup");
        try (PerfBuffer first = PerfBuffer.of(producer.pb(), one())) {
            BpfMap sameMap = BpfMap.describe(copy, "pb");
            BpfException e = assertThrows(BpfException.class, () -> PerfBuffer.of(sameMap, one()));
            assertTrue(e.getMessage().contains("already read by"), e.getMessage());
            producer.run(cpu, 1);
            assertEquals(1, first.consume(count));
        } finally {
            int ignored = (int) CLOSE.invokeExact(copy);
        }
    }

    @Test
    void theMapCanBeReadAgainOnceTheFirstReaderClosed() {
        PerfBuffer.of(producer.pb(), one()).close();
        OrderedPerfBuffer.of(producer.pb(), one()).close();
        try (PerfBuffer again = PerfBuffer.of(producer.pb(), one())) {
            producer.run(cpu, 1);
            assertEquals(1, again.consume(count));
        }
        // A refused open released nothing it did not hold: the first reader's claim stays until it closes.
        try (PerfBuffer first = PerfBuffer.of(producer.pb(), one())) {
            assertThrows(BpfException.class, () -> PerfBuffer.of(producer.pb(), one()));
            assertThrows(BpfException.class, () -> PerfBuffer.of(producer.pb(), one()));
            assertFalse(first.isClosed());
        }
        PerfBuffer.of(producer.pb(), one()).close();
    }
}
