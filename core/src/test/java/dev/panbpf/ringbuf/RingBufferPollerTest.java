package dev.panbpf.ringbuf;

import dev.panbpf.BpfException;
import dev.panbpf.BpfMap;
import dev.panbpf.MapType;
import dev.panbpf.testing.BlockedCall;
import dev.panbpf.testing.Kernel;
import dev.panbpf.testing.Producer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** Several kernel rings read through one RingBufferPoller: each to its own handler, fairly, and releasably. */
class RingBufferPollerTest {
    @BeforeAll
    static void root() {
        Kernel.requireRoot();
    }

    /** Checks a ring's records arrive whole and in sequence, and remembers the order of arrival across rings. */
    private static RecordHandler inSequence(Producer producer, long[] next, List<Integer> arrivals, int ring) {
        return r -> {
            assertEquals(next[0]++, producer.check(r));
            arrivals.add(ring);
            return true;
        };
    }

    @Test
    void aBusyRingDoesNotStarveTheOthers() {
        try (Producer a = Producer.load(0); Producer b = Producer.load(0); Producer c = Producer.load(0)) {
            a.configure(2000, 8, 0, 0).run(1);
            b.configure(10, 8, 0, 0).run(1);
            c.configure(10, 8, 0, 0).run(1);
            long[][] next = new long[3][1];
            List<Integer> arrivals = new ArrayList<>();
            try (RingBufferPoller poller = RingBufferPoller.builder()
                    .add(a.ring(), inSequence(a, next[0], arrivals, 0))
                    .add(b.ring(), inSequence(b, next[1], arrivals, 1))
                    .add(c.ring(), inSequence(c, next[2], arrivals, 2))
                    .batch(64).build()) {
                assertEquals(3, poller.rings());
                // One call is one turn: at most one batch per ring, so the small rings are emptied at once.
                assertEquals(64 + 10 + 10, poller.poll(Duration.ZERO));
                assertEquals(64, poller.delivered(0));
                assertEquals(10, poller.delivered(1));
                assertEquals(10, poller.delivered(2));
                assertEquals(List.of(0, 1, 2), arrivals.stream().distinct().toList(), "served in turn");
                assertEquals(2000 - 64, poller.consume(), "consume keeps turning until every ring is empty");
                assertEquals(2000, next[0][0]);
                assertEquals(2020, poller.delivered());
                assertEquals(0, poller.availableBytes(0));
            }
        }
    }

    @Test
    void turnsStartOneRingFurtherEachTime() {
        try (Producer a = Producer.load(0); Producer b = Producer.load(0)) {
            a.configure(100, 8, 0, 0).run(1);
            b.configure(100, 8, 0, 0).run(1);
            List<Integer> arrivals = new ArrayList<>();
            try (RingBufferPoller poller = RingBufferPoller.builder()
                    .add(a.ring(), inSequence(a, new long[1], arrivals, 0))
                    .add(b.ring(), inSequence(b, new long[1], arrivals, 1))
                    .batch(1).build()) {
                for (int i = 0; i < 4; i++) {
                    assertEquals(2, poller.poll(Duration.ZERO));
                }
                assertEquals(List.of(0, 1, 1, 0, 0, 1, 1, 0), arrivals);
            }
        }
    }

    @Test
    void aHandlerReturningFalseEndsTheCallAndTheNextStartsAfterItsRing() {
        try (Producer a = Producer.load(0); Producer b = Producer.load(0)) {
            a.configure(10, 8, 0, 0).run(1);
            b.configure(10, 8, 0, 0).run(1);
            int[] got = new int[2];
            List<Integer> arrivals = new ArrayList<>();
            try (RingBufferPoller poller = RingBufferPoller.builder()
                    .add(a.ring(), r -> arrivals.add(0) && ++got[0] != 3)   // stops at its third record
                    .add(b.ring(), r -> arrivals.add(1) && ++got[1] > 0)
                    .build()) {
                assertEquals(3, poller.consume());
                assertArrayEquals(new int[]{3, 0}, got);
                assertEquals(17, poller.poll(Duration.ZERO));
                assertArrayEquals(new int[]{10, 10}, got);
                assertEquals(1, arrivals.get(3), "after the stop, ring b is served first");
            }
        }
    }

    @Test
    void aHandlerReturningFalseEndsAPollAfterItsRecordAndTheOtherRingsWait() {
        try (Producer a = Producer.load(0); Producer b = Producer.load(0)) {
            a.configure(10, 8, 0, 0).run(1);
            b.configure(10, 8, 0, 0).run(1);
            int[] got = new int[2];
            List<Integer> arrivals = new ArrayList<>();
            try (RingBufferPoller poller = RingBufferPoller.builder()
                    .add(a.ring(), r -> arrivals.add(0) && ++got[0] != 2)   // stops at its second record
                    .add(b.ring(), r -> arrivals.add(1) && ++got[1] > 0)
                    .build()) {
                assertEquals(2, poller.poll(Duration.ofSeconds(1)));
                assertArrayEquals(new int[]{2, 0}, got, "the poll returned after the record that said stop");
                assertEquals(8 * 16, poller.availableBytes(0), "the rest of ring a stays");
                assertEquals(10 * 16, poller.availableBytes(1), "ring b was not served in that call");
                assertEquals(18, poller.poll(Duration.ofSeconds(1)));
                assertEquals(1, arrivals.get(2), "the next poll serves ring b first");
                assertArrayEquals(new int[]{10, 10}, got);
            }
        }
    }

    @Test
    void consumeEndsEvenWhileAProducerKeepsUp() {
        try (Producer a = Producer.load(4096)) {
            a.configure(1, 8, 0, 0).run(1);
            long[] next = {0};
            try (RingBufferPoller poller = RingBufferPoller.builder()
                    .add(a.ring(), r -> {
                        assertEquals(next[0]++, a.check(r));
                        a.run(1);                                   // every record read brings a new one
                        return true;
                    })
                    .batch(1).build()) {
                int n = poller.consume();
                assertTrue(n > 0 && n <= 4096 / 8 + 1, "bounded by what emptying a full ring takes: " + n);
                assertEquals(n + 1, a.ringOk(), "and the one left is still there for the next call");
                assertEquals(1, poller.poll(Duration.ZERO));
            }
        }
    }

    @Test
    void pollWakesForARecordInAnyRing() throws Exception {
        try (Producer a = Producer.load(0); Producer b = Producer.load(0); Producer c = Producer.load(0)) {
            c.configure(1, 32, 0, 0);
            int[] got = new int[3];
            try (RingBufferPoller poller = RingBufferPoller.builder()
                    .add(a.ring(), r -> ++got[0] > 0)
                    .add(b.ring(), r -> ++got[1] > 0)
                    .add(c.ring(), r -> ++got[2] > 0)
                    .build()) {
                BlockedCall<Integer> blocked = BlockedCall.start("poller", () -> poller.poll(Duration.ofSeconds(10)));
                long t0 = System.nanoTime();
                c.run(1);
                assertEquals(1, blocked.get());
                assertTrue(blocked.millisSince(t0) < 2_000, "woken after " + blocked.millisSince(t0) + " ms");
                assertArrayEquals(new int[]{0, 0, 1}, got);
            }
        }
    }

    @Test
    void closeFromAnotherThreadReleasesABlockedPollWithin100Milliseconds() throws Exception {
        try (Producer a = Producer.load(0); Producer b = Producer.load(0)) {
            int fds = Kernel.openFds();
            RingBufferPoller poller = RingBufferPoller.builder().add(a.ring(), r -> true).add(b.ring(), r -> true)
                    .build();
            BlockedCall<Integer> blocked = BlockedCall.start("poller", () -> poller.poll(Duration.ofSeconds(10)));
            long t0 = System.nanoTime();
            poller.close();
            assertEquals(0, blocked.get());
            assertTrue(blocked.millisSince(t0) < 2000, "returned " + blocked.millisSince(t0) + " ms after close");
            assertEquals(fds, Kernel.openFds(), "the poller's epoll and eventfd are closed");
            BpfException e = assertThrows(BpfException.class, poller::consume);
            assertTrue(e.getMessage().contains("closed"), e.getMessage());
            RingBuffer.of(a.ring()).close();                    // the rings are free for another reader again
        }
    }

    @Test
    void refusesWhatItCannotRead() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> RingBufferPoller.builder().build());
        assertTrue(e.getMessage().contains("at least one ring"), e.getMessage());
        try (BpfMap hash = BpfMap.create(MapType.HASH, 4, 4, 4, 0, "h");
             BpfMap rb = BpfMap.create(MapType.RINGBUF, 0, 0, 4096, 0, "rb")) {
            int fds = Kernel.openFds();
            e = assertThrows(IllegalArgumentException.class,
                    () -> RingBufferPoller.builder().add(rb, r -> true).add(hash, r -> true).build());
            assertTrue(e.getMessage().contains("ring 1") && e.getMessage().contains("RINGBUF"), e.getMessage());
            assertEquals(fds, Kernel.openFds(), "what was set up for ring 0 was released");
            BpfException twice = assertThrows(BpfException.class,
                    () -> RingBufferPoller.builder().add(rb, r -> true).add(rb, r -> true).build());
            assertTrue(twice.getMessage().contains("already open"), twice.getMessage());
            RingBuffer.of(rb).close();                          // and nothing stayed claimed
        }
    }
}
