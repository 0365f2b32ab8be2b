package dev.panbpf.ringbuf;

import dev.panbpf.BpfMap;
import dev.panbpf.BpfObject;
import dev.panbpf.MapType;
import dev.panbpf.bpf.BpfPrograms;
import dev.panbpf.testing.FlightRecording;
import dev.panbpf.testing.Kernel;
import jdk.jfr.consumer.RecordedEvent;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Rings filled past capacity by drops.bpf.o, whose program uses the drop-counting wrappers of panbpf.bpf.h, and
 * then drained: every attempt the program made is delivered, discarded or reported by producerDrops().
 */
class RingProducerDropsTest {
    /** Runs of produce_ring; its 4 KiB ring holds 56 of the 72-byte (header included) records. */
    private static final int RUNS = 600;

    private BpfObject obj;

    @BeforeEach
    void open() {
        Kernel.requireRoot();
        obj = BpfObject.open(BpfPrograms.bytes("drops.bpf.o"), "drops").load();
    }

    @AfterEach
    void close() {
        if (obj != null) {
            obj.close();
        }
    }

    private long global(String name) {
        return obj.global(name).get(ValueLayout.JAVA_LONG, 0);
    }

    private void produce(int ring, int runs) {
        obj.global("ring").set(ValueLayout.JAVA_INT, 0, ring);
        obj.program("produce_ring").testRun(new byte[64], runs);
    }

    private static long drain(RingBuffer ring) {
        long n = 0;
        for (int got; (got = ring.consume(r -> true)) > 0; ) {
            n += got;
        }
        return n;
    }

    @Test
    void everyAttemptIsDeliveredDiscardedOrCountedAsAProducerDrop() {
        try (RingBuffer ring = RingBuffer.of(obj.map("drops_ring"))) {
            produce(0, RUNS);
            assertEquals(RUNS, global("ring_attempts"));
            long drops = ring.producerDrops();
            assertTrue(drops > RUNS / 2, "a 4 KiB ring cannot take 600 records unread: " + drops + " drops");
            assertEquals(global("ring_failed"), drops, "the count the program kept itself");

            drain(ring);
            assertTrue(ring.discarded() > 0, "every 7th reserved record is discarded");
            assertEquals(global("ring_discarded"), ring.discarded());
            assertEquals(RUNS, ring.delivered() + ring.discarded() + ring.producerDrops());

            // With room again every record goes through, and the count does not move.
            produce(0, 30);
            drain(ring);
            assertEquals(drops, ring.producerDrops());
            assertEquals(RUNS + 30, ring.delivered() + ring.discarded() + ring.producerDrops());
        }
    }

    @Test
    void theCountStartsWhenTheReaderOpensAndIsKeptPerRingName() {
        try (RingBuffer ring = RingBuffer.of(obj.map("drops_ring"))) {
            produce(0, RUNS);
            assertTrue(ring.producerDrops() > 0);
            drain(ring);
        }
        long before = global("ring_failed");
        RingBufferPoller poller = RingBufferPoller.builder()
                .add(obj.map("drops_ring"), r -> true)
                .add(obj.map("drops_ring_with_long_name"), r -> true)   // the kernel keeps "drops_ring_with"
                .build();
        try (poller) {
            assertEquals(0, poller.producerDrops(), "drops before the poller opened are not its");
            produce(1, RUNS);
            long drops = global("ring_failed") - before;
            assertTrue(drops > 0);
            assertEquals(0, poller.producerDrops(0), "the other ring's drops are counted under its own name");
            assertEquals(drops, poller.producerDrops(1), "a name longer than 15 characters is cut as in the kernel");
            assertEquals(drops, poller.producerDrops());
            for (int got; (got = poller.consume()) > 0; ) {
                assertTrue(got > 0);
            }
            assertEquals(RUNS, poller.delivered(1) + poller.discarded(1) + poller.producerDrops(1));
            assertEquals(0, poller.delivered(0));
            assertThrows(IllegalArgumentException.class, () -> poller.producerDrops(2));
        }
    }

    @Test
    void aReaderWhoseObjectHasNoCounterMapReportsZero() {
        // producer.bpf.o uses the plain helpers: its failed reserves are in its own counters only.
        try (BpfObject producer = BpfObject.open(BpfPrograms.bytes("producer.bpf.o"), "producer")
                .setMaxEntries("rb", 4096).load();
             RingBuffer ring = RingBuffer.of(producer.map("rb"));
             Arena a = Arena.ofConfined()) {
            MemorySegment config = a.allocate(24);   // struct producer_config: count, size, ..., target
            config.set(ValueLayout.JAVA_INT, 0, RUNS);
            config.set(ValueLayout.JAVA_INT, 4, 64);
            config.set(ValueLayout.JAVA_INT, 16, 1);
            producer.map("config").update(a.allocateFrom(ValueLayout.JAVA_INT, 0), config);
            producer.program("produce").testRun(new byte[64]);
            MemorySegment counters = a.allocate(48);
            producer.map("counters").lookup(a.allocateFrom(ValueLayout.JAVA_INT, 0), counters);
            assertTrue(counters.get(ValueLayout.JAVA_LONG, 16) > 0, "the producer's reserves failed");
            assertEquals(0, ring.producerDrops());
        }
        try (BpfMap map = BpfMap.create(MapType.RINGBUF, 0, 0, 4096, 0, "bare_ring");
             RingBuffer ring = RingBuffer.of(map)) {
            assertTrue(map.object().isEmpty());
            assertEquals(0, ring.producerDrops());
        }
    }

    @Test
    void flightRecorderReportsEachRingsDropsOnceTheyGrowAndStopsWithTheReader() throws Exception {
        try (FlightRecording recording = FlightRecording.allPanbpf()) {
            long drops;
            try (RingBuffer ring = RingBuffer.of(obj.map("drops_ring"))) {
                produce(0, RUNS);
                drops = ring.producerDrops();
                assertTrue(drops > 0);
                Thread.sleep(800);                    // several 100 ms periods: the count grew in one of them
                drain(ring);
            }
            produce(0, RUNS);                         // drops with no reader open: nobody's, so not reported
            Thread.sleep(500);
            List<RecordedEvent> events = FlightRecording.named(recording.stop(), "dev.panbpf.ProducerDrops");
            assertFalse(events.isEmpty(), "no ProducerDrops event");
            assertEquals(drops, FlightRecording.sum(events, "drops"));
            assertEquals(drops, events.get(events.size() - 1).getLong("total"));
            for (RecordedEvent e : events) {
                assertEquals("drops_ring", e.getString("map"));
            }
        }
    }

    @Test
    void theMapKnowsItsObject() {
        assertSame(obj, obj.map("drops_ring").object().orElseThrow());
    }
}
