package dev.panbpf.ringbuf;

import dev.panbpf.BufferClosedException;
import dev.panbpf.EventReader;
import dev.panbpf.testing.BlockedCall;
import dev.panbpf.testing.Kernel;
import dev.panbpf.testing.Producer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

import static dev.panbpf.testing.Fds.assertFdsBackTo;
import static org.junit.jupiter.api.Assertions.*;

/**
 * A RingBuffer is the one-ring case of a RingBufferPoller: the same script run against each, on identical producers,
 * gives the same deliveries, counters, timeouts, wakeups and close behaviour, through the {@link EventReader}
 * contract both keep.
 */
class RingBufferIsAOneRingPollerTest {
    @BeforeAll
    static void root() {
        Kernel.requireRoot();
    }

    /** What the script needs of a one-ring reader whose handler was fixed when it opened. */
    private interface OneRing {
        EventReader reader();

        int consume();

        int poll(Duration timeout);

        long discarded();

        long availableBytes();

        long busyWaits();
    }

    private static OneRing ringBuffer(Producer p, RecordHandler handler) {
        RingBuffer ring = RingBuffer.of(p.ring());
        return new OneRing() {
            public EventReader reader() {
                return ring;
            }

            public int consume() {
                return ring.consume(handler);
            }

            public int poll(Duration timeout) {
                return ring.poll(handler, timeout);
            }

            public long discarded() {
                return ring.discarded();
            }

            public long availableBytes() {
                return ring.availableBytes();
            }

            public long busyWaits() {
                return ring.busyWaits();
            }
        };
    }

    private static OneRing oneRingPoller(Producer p, RecordHandler handler) {
        RingBufferPoller poller = RingBufferPoller.builder().add(p.ring(), handler).build();
        return new OneRing() {
            public EventReader reader() {
                return poller;
            }

            public int consume() {
                return poller.consume();
            }

            public int poll(Duration timeout) {
                return poller.poll(timeout);
            }

            public long discarded() {
                return poller.discarded(0);
            }

            public long availableBytes() {
                return poller.availableBytes(0);
            }

            public long busyWaits() {
                return poller.busyWaits();
            }
        };
    }

    @Test
    void aRingBufferAndAOneRingPollerBehaveAlikeFromOpenToClose() throws Exception {
        List<String> ring = script(h -> p -> ringBuffer(p, h));
        List<String> poller = script(h -> p -> oneRingPoller(p, h));
        assertEquals(ring, poller);
    }

    /**
     * Runs the script on a fresh producer (so the records' sequence numbers match between runs) and returns what it
     * saw, asserting on the way what both readers must do.
     */
    private static List<String> script(Function<RecordHandler, Function<Producer, OneRing>> open) throws Exception {
        List<String> saw = new ArrayList<>();
        List<Long> seqs = new ArrayList<>();
        try (Producer p = Producer.load(0)) {
            int fds = Kernel.openFds();
            // Stops after the 3rd and the 20th record: an early stop in a consume, then in a poll.
            RecordHandler handler = r -> {
                seqs.add(p.check(r));
                return seqs.size() != 3 && seqs.size() != 20;
            };
            OneRing one = open.apply(handler).apply(p);
            EventReader reader = one.reader();
            p.configure(20, 32, 4, 0).run(1);                  // every 4th record discarded: 15 to deliver
            saw.add("consume " + one.consume() + ", available " + one.availableBytes());
            assertEquals(3, reader.delivered(), "a handler returning false ends the consume after its record");
            assertEquals(17 * 40, one.availableBytes(), "the rest stay");
            saw.add("poll " + one.poll(Duration.ZERO) + ", delivered " + reader.delivered()
                    + ", discarded " + one.discarded() + ", available " + one.availableBytes());
            assertEquals(15, reader.delivered());
            assertEquals(5, one.discarded());

            long t0 = System.nanoTime();
            assertEquals(0, one.poll(Duration.ofMillis(60)));
            assertTrue(System.nanoTime() - t0 >= 60_000_000L, "an empty poll waits its timeout");
            reader.wakeup();
            t0 = System.nanoTime();
            assertEquals(0, one.poll(Duration.ofSeconds(5)), "a pending wakeup ends the next wait");
            assertTrue(System.nanoTime() - t0 < 1_000_000_000L);

            p.run(1);
            saw.add("poll " + one.poll(Duration.ofSeconds(1)) + ", consume " + one.consume());
            assertEquals(30, reader.delivered(), "a handler returning false ends the poll; consume takes the rest");

            BlockedCall<Integer> blocked = BlockedCall.start("blocked poll", () -> one.poll(Duration.ofSeconds(10)));
            p.configure(20, 32, 0, 0);                        // nothing discarded, but never read: left in the map
            t0 = System.nanoTime();
            reader.close();
            saw.add("blocked poll " + blocked.get());
            assertTrue(blocked.millisSince(t0) < 3000, "close released the poll after " + blocked.millisSince(t0));
            p.run(1);
            saw.add("closed " + reader.isClosed() + ", delivered " + reader.delivered() + ", lost " + reader.lost()
                    + ", dropped at close " + reader.droppedAtClose() + ", busy waits " + one.busyWaits());
            for (Runnable call : List.<Runnable>of(one::consume, () -> one.poll(Duration.ZERO), one::availableBytes)) {
                BufferClosedException e = assertThrows(BufferClosedException.class, call::run);
                assertTrue(e.getMessage().contains("is closed"), e.getMessage());
            }
            reader.wakeup();
            reader.close();
            assertEquals(0, reader.lost());
            assertEquals(0, reader.droppedAtClose());
            try (RingBuffer next = RingBuffer.of(p.ring())) {
                saw.add("left in the map " + next.consume(r -> true));
                assertEquals(20, next.delivered(), "what the closed reader never read is still there");
            }
            assertFdsBackTo(fds);
        }
        saw.add("seqs " + seqs);
        return saw;
    }
}
