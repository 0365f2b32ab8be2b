package dev.panbpf.ringbuf;

import dev.panbpf.BpfException;
import dev.panbpf.BpfMap;
import dev.panbpf.MapType;
import dev.panbpf.testing.BlockedCall;
import dev.panbpf.testing.Kernel;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/**
 * RingBuffer's life cycle on real kernel ring buffer maps: opening, refusing what it cannot read, blocking and being
 * released, one consumer at a time, and releasing every fd and mapping. Records from a BPF producer are in
 * {@link RingBufferKernelTest}.
 */
class RingBufferTest {
    private static final int SIZE = 16 * 4096;

    @BeforeAll
    static void root() {
        Kernel.requireRoot();
    }

    @Test
    void refusesMapsThatAreNotRingBuffers() {
        try (BpfMap hash = BpfMap.create(MapType.HASH, 4, 4, 8, 0, "h");
             BpfMap user = BpfMap.create(MapType.USER_RINGBUF, 0, 0, SIZE, 0, "u")) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> RingBuffer.of(hash));
            assertTrue(e.getMessage().contains("not a ring buffer"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> RingBuffer.of(user));
            assertTrue(e.getMessage().contains("UserRingBuffer"), e.getMessage());
        }
    }

    @Test
    void anEmptyRingHasNothingToDeliverAndReportsItsShape() {
        try (BpfMap map = BpfMap.create(MapType.RINGBUF, 0, 0, SIZE, 0, "rb"); RingBuffer ring = RingBuffer.of(map)) {
            assertEquals(SIZE, ring.size());
            assertEquals(0, ring.availableBytes());
            assertEquals(0, ring.producerPosition());
            assertEquals(0, ring.consumerPosition());
            assertEquals(0, ring.consume(r -> fail("nothing was produced")));
            assertEquals(0, ring.poll(r -> fail("nothing was produced"), Duration.ZERO));
            assertEquals(0, ring.delivered());
        }
    }

    @Test
    void pollReturnsZeroOnceTheTimeoutPasses() {
        try (BpfMap map = BpfMap.create(MapType.RINGBUF, 0, 0, SIZE, 0, "rb"); RingBuffer ring = RingBuffer.of(map)) {
            long t0 = System.nanoTime();
            assertEquals(0, ring.poll(r -> true, Duration.ofMillis(60)));
            long waited = System.nanoTime() - t0;
            assertTrue(waited >= TimeUnit.MILLISECONDS.toNanos(60), "returned early after " + waited + " ns");
        }
    }

    @Test
    void closeFromAnotherThreadReleasesABlockedPollWithin100Milliseconds() throws Exception {
        try (BpfMap map = BpfMap.create(MapType.RINGBUF, 0, 0, SIZE, 0, "rb")) {
            RingBuffer ring = RingBuffer.of(map);
            BlockedCall<Integer> blocked = blockedPoll(ring);
            long t0 = System.nanoTime();
            ring.close();
            assertEquals(0, blocked.get());
            assertTrue(blocked.millisSince(t0) < 2000, "poll returned " + blocked.millisSince(t0) + " ms after close");
            BpfException e = assertThrows(BpfException.class, () -> ring.poll(r -> true, Duration.ZERO));
            assertTrue(e.getMessage().contains("closed"), e.getMessage());
            assertThrows(BpfException.class, ring::availableBytes);
        }
    }

    @Test
    void wakeupReleasesABlockedPollAndTheRingStaysUsable() throws Exception {
        try (BpfMap map = BpfMap.create(MapType.RINGBUF, 0, 0, SIZE, 0, "rb"); RingBuffer ring = RingBuffer.of(map)) {
            BlockedCall<Integer> blocked = blockedPoll(ring);
            long t0 = System.nanoTime();
            ring.wakeup();
            assertEquals(0, blocked.get());
            assertTrue(blocked.millisSince(t0) < 2000, "poll returned " + blocked.millisSince(t0) + " ms after wakeup");
            assertEquals(0, ring.poll(r -> true, Duration.ofMillis(1)), "still open and usable");
        }
    }

    @Test
    void aSecondConsumerAtTheSameTimeIsRefused() throws Exception {
        try (BpfMap map = BpfMap.create(MapType.RINGBUF, 0, 0, SIZE, 0, "rb"); RingBuffer ring = RingBuffer.of(map)) {
            BlockedCall<Integer> blocked = blockedPoll(ring);
            BpfException e = assertThrows(BpfException.class, () -> ring.consume(r -> true));
            assertTrue(e.getMessage().contains("already has a consumer") && e.getMessage().contains("blocked-poll"),
                    e.getMessage());
            ring.wakeup();
            blocked.get();
            assertEquals(0, ring.consume(r -> true), "once the first consumer left, the next one is let in");
        }
    }

    @Test
    void aSecondReaderOfTheSameMapIsRefusedUntilTheFirstIsClosed() {
        try (BpfMap map = BpfMap.create(MapType.RINGBUF, 0, 0, SIZE, 0, "rb")) {
            RingBuffer first = RingBuffer.of(map);
            BpfException e = assertThrows(BpfException.class, () -> RingBuffer.of(map));
            assertTrue(e.getMessage().contains("already open"), e.getMessage());
            e = assertThrows(BpfException.class, () -> RingBufferPoller.builder().add(map, r -> true).build());
            assertTrue(e.getMessage().contains("already open"), e.getMessage());
            first.close();
            RingBuffer.of(map).close();
        }
    }

    @Test
    void closingReleasesEveryFdAndMapping() throws Exception {
        try (BpfMap map = BpfMap.create(MapType.RINGBUF, 0, 0, SIZE, 0, "rb")) {
            RingBuffer.of(map).close();                      // warm up lazily loaded classes and handles
            int fds = Kernel.openFds();
            long mappings = bpfMappings();
            for (int i = 0; i < 200; i++) {
                try (RingBuffer ring = RingBuffer.of(map)) {
                    ring.poll(r -> true, Duration.ZERO);
                    assertEquals(mappings + 2, bpfMappings(), "a ring is mapped in two pieces");
                }
                RingBufferPoller.builder().add(map, r -> true).build().close();
            }
            assertEquals(fds, Kernel.openFds(), "fds leaked");
            assertEquals(mappings, bpfMappings(), "mappings leaked");
        }
    }

    @Test
    void closingTwiceAndFromSeveralThreadsIsHarmless() throws Exception {
        try (BpfMap map = BpfMap.create(MapType.RINGBUF, 0, 0, SIZE, 0, "rb")) {
            int fds = Kernel.openFds();
            RingBuffer ring = RingBuffer.of(map);
            Thread[] closers = new Thread[4];
            for (int i = 0; i < closers.length; i++) {
                closers[i] = new Thread(ring::close);
                closers[i].start();
            }
            for (Thread t : closers) {
                t.join();
            }
            ring.close();
            assertTrue(ring.isClosed());
            assertEquals(fds, Kernel.openFds());
        }
    }

    static BlockedCall<Integer> blockedPoll(RingBuffer ring) throws InterruptedException {
        return BlockedCall.start("blocked-poll", () -> ring.poll(r -> true, Duration.ofSeconds(10)));
    }

    /** Mappings of BPF maps in this process (the JVM's own mappings come and go, these must not). */
    static long bpfMappings() throws java.io.IOException {
        try (var lines = java.nio.file.Files.lines(java.nio.file.Path.of("/proc/self/maps"))) {
            return lines.filter(l -> l.contains("bpf-map")).count();
        }
    }
}
