package dev.panbpf.ringbuf;

import dev.panbpf.testing.FlightRecording;
import dev.panbpf.testing.Kernel;
import dev.panbpf.testing.Producer;
import jdk.jfr.consumer.RecordedEvent;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.List;

import static dev.panbpf.testing.FlightRecording.named;
import static dev.panbpf.testing.FlightRecording.sum;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The ring readers' JFR events against the real kernel: the producer program submits and discards records, the
 * readers consume and poll them under a recording, and the events read back from the dumped file name the map
 * and add up exactly to the readers' counters.
 */
class RingFlightRecorderTest {
    @BeforeAll
    static void root() {
        Kernel.requireRoot();
    }

    @Test
    void discardsAndPassesOfARingBufferAreRecordedAndAddUpToItsCounters() {
        List<RecordedEvent> events;
        long discarded;
        long delivered;
        try (Producer producer = Producer.load(0); RingBuffer ring = RingBuffer.of(producer.ring());
                FlightRecording jfr = FlightRecording.allPanbpf()) {
            producer.configure(300, 40, 3, 0).run(1);          // every third record discarded: 200 + 100
            assertEquals(200, ring.consume(r -> true));
            producer.run(1);
            assertEquals(200, ring.poll(r -> true, Duration.ofSeconds(5)));
            producer.run(1);
            while (ring.consume(r -> true, 7) > 0) {
                // passes of at most 7 records each
            }
            assertEquals(0, ring.poll(r -> true, Duration.ZERO), "an empty pass");
            events = jfr.stop();
            discarded = ring.discarded();
            delivered = ring.delivered();
            assertEquals(producer.ringDiscarded(), discarded);
        }
        assertEquals(300, discarded);
        assertEquals(600, delivered);
        List<RecordedEvent> discards = named(events, "dev.panbpf.RingDiscarded");
        assertFalse(discards.isEmpty(), "discards were recorded");
        assertEquals(discarded, sum(discards, "discarded"), "the events' counts add up to discarded()");
        long running = 0;
        for (RecordedEvent e : discards) {
            assertEquals("rb", e.getString("map"));
            assertTrue(e.getLong("discarded") > 0);
            running += e.getLong("discarded");
            assertEquals(running, e.getLong("total"), "total is the reader's count after the pass");
        }
        List<RecordedEvent> passes = named(events, "dev.panbpf.ConsumerPass");
        assertEquals(delivered, sum(passes, "records"), "the passes' records add up to delivered()");
        assertEquals(2 + (200 + 6) / 7, passes.size(), "one event per pass that delivered, none for the empty");
        for (RecordedEvent e : passes) {
            assertEquals("rb", e.getString("map"));
            assertEquals("RingBuffer", e.getString("reader"));
            assertTrue(e.getLong("records") > 0, "a pass that delivered nothing is not recorded");
            assertTrue(e.getLong("records") <= 200);
        }
        assertEquals(200, passes.get(0).getLong("records"), "the first consume");
        assertEquals(200, passes.get(1).getLong("records"), "the poll");
        assertEquals(7, passes.get(2).getLong("records"), "a limited consume");
    }

    @Test
    void aPassThatFollowsAWaitIsTimedFromTheEndOfTheWait() throws Exception {
        List<RecordedEvent> events;
        Instant polled;
        try (Producer producer = Producer.load(0); RingBuffer ring = RingBuffer.of(producer.ring());
                FlightRecording jfr = FlightRecording.allPanbpf()) {
            producer.configure(5, 40, 0, 0);
            Thread later = Thread.ofPlatform().start(() -> {
                try {
                    Thread.sleep(400);
                } catch (InterruptedException e) {
                    return;
                }
                producer.run(1);
            });
            polled = Instant.now();
            assertEquals(5, ring.poll(r -> true, Duration.ofSeconds(10)));
            later.join();
            events = jfr.stop();
        }
        List<RecordedEvent> passes = named(events, "dev.panbpf.ConsumerPass");
        assertEquals(1, passes.size(), "the empty pass before the wait is not recorded: " + passes);
        // The producer ran 400 ms after the poll began; a pass timed with the wait would start at the poll.
        assertTrue(passes.getFirst().getStartTime().isAfter(polled.plusMillis(200)),
                "pass from " + passes.getFirst().getStartTime() + ", poll from " + polled);
    }

    @Test
    void aPollersTurnsAreRecordedWithTheMapsNameAndTheRingsDiscards() {
        List<RecordedEvent> events;
        RingBufferPoller.Builder builder = RingBufferPoller.builder();
        try (Producer producer = Producer.load(0);
                RingBufferPoller poller = builder.add(producer.ring(), r -> true).batch(50).build();
                FlightRecording jfr = FlightRecording.allPanbpf()) {
            producer.configure(100, 40, 4, 0).run(1);          // 75 submitted, 25 discarded
            assertEquals(75, poller.consume());
            producer.run(1);
            assertEquals(50, poller.poll(Duration.ofSeconds(5)), "one turn of one batch");
            poller.consume();
            events = jfr.stop();
            assertEquals(150, poller.delivered());
            assertEquals(50, poller.discarded(0));
            assertEquals(poller.delivered(), sum(named(events, "dev.panbpf.ConsumerPass"), "records"));
            assertEquals(poller.discarded(0), sum(named(events, "dev.panbpf.RingDiscarded"), "discarded"));
        }
        for (RecordedEvent e : events) {
            assertEquals("rb", e.getString("map"));
        }
        assertTrue(named(events, "dev.panbpf.ConsumerPass").stream()
                .allMatch(e -> e.getString("reader").equals("RingBufferPoller") && e.getLong("records") <= 50));
    }

    @Test
    void discardsAreRecordedWithTheJdksDefaultSettingsAndFastPassesAreNot() {
        List<RecordedEvent> events;
        try (Producer producer = Producer.load(0); RingBuffer ring = RingBuffer.of(producer.ring());
                FlightRecording jfr = FlightRecording.defaults()) {
            producer.configure(30, 40, 3, 0).run(1);
            ring.consume(r -> true);
            events = jfr.stop();
        }
        assertEquals(10, sum(named(events, "dev.panbpf.RingDiscarded"), "discarded"), "loss events on by default");
        for (RecordedEvent e : named(events, "dev.panbpf.ConsumerPass")) {
            assertTrue(e.getDuration().compareTo(Duration.ofMillis(10)) >= 0, "only passes over the 10 ms threshold");
        }
    }

    @Test
    void withoutARecordingTakingThemNoEventIsRecordedAndTheReadersWork() {
        List<RecordedEvent> events;
        try (Producer producer = Producer.load(0); RingBuffer ring = RingBuffer.of(producer.ring());
                FlightRecording jfr = FlightRecording.withoutPanbpf()) {
            assertFalse(RingEvents.wanted(), "no recording takes panbpf events");
            producer.configure(30, 40, 3, 0).run(1);
            assertEquals(20, ring.consume(r -> true));
            producer.run(1);
            assertEquals(20, ring.poll(r -> true, Duration.ofSeconds(5)));
            assertEquals(20, ring.discarded());
            events = jfr.stop();
        }
        assertEquals(List.of(), events);
    }
}
