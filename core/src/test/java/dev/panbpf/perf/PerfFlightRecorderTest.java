package dev.panbpf.perf;

import dev.panbpf.Cpus;
import dev.panbpf.testing.FlightRecording;
import dev.panbpf.testing.Kernel;
import jdk.jfr.consumer.RecordedEvent;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;

import static dev.panbpf.testing.FlightRecording.named;
import static dev.panbpf.testing.FlightRecording.sum;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The perf readers' JFR events against the real kernel: the producer program overruns a one-page ring while
 * nothing consumes, the reader then reads it under a recording, and the lost events read back from the dumped
 * file name the map and the CPU and add up exactly to the reader's lost count, the passes to delivered().
 */
class PerfFlightRecorderTest {
    /** 8 + 4 + 204 = 216 bytes a record: 18 fit in one page, so 100 outputs overflow it. */
    private static final int SIZE = 200;
    private PerfProducer producer;

    @BeforeAll
    static void root() {
        Kernel.requireRoot();
    }

    @BeforeEach
    void load() {
        producer = new PerfProducer().configure(1, SIZE);
    }

    @AfterEach
    void unload() {
        producer.close();
    }

    private static PerfOptions onePage(int cpu) {
        return PerfOptions.defaults().pagesPerCpu(1).cpus(List.of(cpu)).payloadSize(SIZE);
    }

    /** Overruns the ring of {@code cpu}, then has the kernel write its LOST record (at the next output with room). */
    private long overrun(int cpu, Runnable consume) {
        producer.run(cpu, 100);
        long failed = producer.counters().perfFailed();
        assertTrue(failed > 0, "the ring overflowed");
        consume.run();
        producer.run(cpu, 1);
        consume.run();
        return failed;
    }

    @Test
    void lossesOfAPerfBufferAreRecordedPerCpuAndAddUpToItsCounters() {
        int cpu = Cpus.online().getLast();
        List<RecordedEvent> events;
        long failed;
        try (PerfBuffer pb = PerfBuffer.of(producer.pb(), onePage(cpu));
                FlightRecording jfr = FlightRecording.allPanbpf()) {
            failed = overrun(cpu, () -> pb.consume((c, p, t) -> true));
            producer.run(cpu, 5);
            assertEquals(5, pb.poll((c, p, t) -> true, Duration.ofSeconds(5)));
            producer.run(cpu, 3);
            assertEquals(3, pb.consume(cpu, (c, p, t) -> true));
            events = jfr.stop();
            assertEquals(failed, pb.lost(cpu));
            List<RecordedEvent> lost = named(events, "dev.panbpf.PerfLost");
            assertEquals(1, lost.size(), "one LOST record, read by one pass: " + lost);
            RecordedEvent e = lost.getFirst();
            assertEquals("pb", e.getString("map"));
            assertEquals(cpu, e.getInt("cpu"));
            assertEquals(failed, e.getLong("lost"));
            assertEquals(pb.lost(cpu), e.getLong("total"));
            List<RecordedEvent> passes = named(events, "dev.panbpf.ConsumerPass");
            assertEquals(pb.delivered(), sum(passes, "records"), "the passes add up to delivered()");
            assertEquals(List.of(producer.counters().perfOk() - 9, 1L, 5L, 3L),
                    passes.stream().map(p -> p.getLong("records")).toList(), "one event per pass that delivered");
            assertTrue(passes.stream().allMatch(p -> p.getString("map").equals("pb")
                    && p.getString("reader").equals("PerfBuffer")));
        }
    }

    @Test
    void lossesOfAnOrderedPerfBufferAreRecordedToo() {
        int cpu = Cpus.online().getLast();
        List<RecordedEvent> events;
        try (OrderedPerfBuffer ob = OrderedPerfBuffer.of(producer.pb(), onePage(cpu), Duration.ZERO);
                FlightRecording jfr = FlightRecording.allPanbpf()) {
            long failed = overrun(cpu, () -> ob.flush((c, p, t, late) -> true));
            events = jfr.stop();
            assertEquals(failed, ob.lost());
            assertEquals(failed, sum(named(events, "dev.panbpf.PerfLost"), "lost"));
            assertEquals(ob.delivered(), sum(named(events, "dev.panbpf.ConsumerPass"), "records"));
        }
        assertTrue(named(events, "dev.panbpf.PerfLost").stream().allMatch(e -> e.getInt("cpu") == cpu
                && e.getString("map").equals("pb")));
        assertTrue(named(events, "dev.panbpf.ConsumerPass").stream()
                .allMatch(e -> e.getString("reader").equals("OrderedPerfBuffer")));
    }

    @Test
    void withoutARecordingTakingThemNoEventIsRecordedAndTheReaderCountsAsBefore() {
        int cpu = Cpus.online().getLast();
        List<RecordedEvent> events;
        try (PerfBuffer pb = PerfBuffer.of(producer.pb(), onePage(cpu));
                FlightRecording jfr = FlightRecording.withoutPanbpf()) {
            long failed = overrun(cpu, () -> pb.consume((c, p, t) -> true));
            events = jfr.stop();
            assertEquals(failed, pb.lost(cpu));
            assertEquals(producer.counters().perfOk(), pb.delivered());
        }
        assertEquals(List.of(), events);
        assertFalse(dev.panbpf.internal.PerfLostEvent.on());
    }
}
