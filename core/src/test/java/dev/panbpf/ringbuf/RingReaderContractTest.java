package dev.panbpf.ringbuf;

import dev.panbpf.BpfException;
import dev.panbpf.BpfMap;
import dev.panbpf.BufferClosedException;
import dev.panbpf.MapType;
import dev.panbpf.internal.ConsumerGate;
import dev.panbpf.internal.Epoll;
import dev.panbpf.internal.Sys;
import dev.panbpf.testing.BlockedCall;
import dev.panbpf.testing.Kernel;
import dev.panbpf.testing.Producer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import static dev.panbpf.testing.Threads.threadCpuNanos;
import static org.junit.jupiter.api.Assertions.*;

/**
 * The contract every ring reader keeps, whatever the caller does: a poll never spins, a closed reader says so the
 * same way on every call, a handler that closes its reader gets nothing more, a re-entrant call is named as such,
 * and queries racing close fail with the closed error rather than a raw one.
 */
class RingReaderContractTest {
    private static final int SIZE = 16 * 4096;

    @BeforeAll
    static void root() {
        Kernel.requireRoot();
    }

    @Test
    void pollSleepsInsteadOfSpinningWhileTheHeadRecordIsBusy() throws Exception {
        try (FakeRing ring = new FakeRing(SIZE); Epoll epoll = new Epoll(1)) {
            // The kernel reports a ring readable while producer_pos != consumer_pos, BUSY head or not: an eventfd
            // that stays readable plays that ring fd.
            dev.panbpf.internal.Fd alwaysReadyFd = new dev.panbpf.internal.Fd(Sys.eventfd(), "eventfd");
            int alwaysReady = alwaysReadyFd.get();
            try (Arena a = Arena.ofConfined()) {
                Sys.write(alwaysReady, a.allocateFrom(ValueLayout.JAVA_LONG, 1L));
                epoll.add(alwaysReady, dev.panbpf.bindings.sys_epoll_h.EPOLLIN(), 0);
                RingReader reader = ring.reader();
                ConsumerGate gate = new ConsumerGate("fake ring", () -> { });
                RingPollLoop loop = new RingPollLoop(new RingReader[]{reader}, gate, epoll);
                long busy = ring.reserve(16);                 // reserved, not committed
                long cpu0 = threadCpuNanos();
                long t0 = System.nanoTime();
                assertEquals(0, loop.poll(RingPollLoop.whole(reader), r -> true,
                        System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(400)));
                long wall = System.nanoTime() - t0;
                long cpu = threadCpuNanos() - cpu0;
                assertTrue(wall >= TimeUnit.MILLISECONDS.toNanos(400), "returned before the timeout: " + wall);
                assertTrue(cpu < wall / 4, "a poll on a BUSY head used " + cpu / 1_000_000 + " ms of CPU in "
                        + wall / 1_000_000 + " ms: it spins");
                assertTrue(loop.busyWaits() > 0, "the sleeps are counted");

                // The commit ends the wait within one back-off step (at most 4 ms, plus scheduling).
                CompletableFuture.runAsync(() -> {
                    sleep(50);
                    ring.fill(busy, FakeRing.payload(1, 16));
                    ring.commit(busy, false);
                });
                AtomicInteger got = new AtomicInteger();
                assertEquals(1, loop.poll(RingPollLoop.whole(reader), r -> got.incrementAndGet() > 0,
                        System.nanoTime() + TimeUnit.SECONDS.toNanos(5)));
                assertEquals(1, got.get());
            } finally {
                alwaysReadyFd.close();
            }
        }
    }

    @Test
    void aWakeupEndsABusyBackoffAndIsNotLeftPendingForTheNextPoll() throws Exception {
        try (FakeRing ring = new FakeRing(SIZE); Epoll epoll = new Epoll(1)) {
            RingReader reader = ring.reader();
            RingPollLoop loop = new RingPollLoop(new RingReader[]{reader}, new ConsumerGate("fake ring", () -> { }),
                    epoll);
            ring.reserve(16);
            CompletableFuture.runAsync(() -> {
                sleep(50);
                epoll.wakeup();
            });
            long t0 = System.nanoTime();
            assertEquals(0, loop.poll(RingPollLoop.whole(reader), r -> true,
                    System.nanoTime() + TimeUnit.SECONDS.toNanos(10)));
            assertTrue(System.nanoTime() - t0 < TimeUnit.SECONDS.toNanos(2), "the wakeup ended the back-off");
            assertFalse(epoll.takeWakeup(), "the wakeup was taken, not left to end the next wait at once");
        }
    }

    @Test
    void everyCallOnAClosedRingThrowsTheClosedError() {
        try (BpfMap map = BpfMap.create(MapType.RINGBUF, 0, 0, SIZE, 0, "rb")) {
            RingBuffer ring = RingBuffer.of(map);
            ring.close();
            assertClosedError(() -> ring.consume(r -> true), "ring buffer 'rb'");
            assertClosedError(() -> ring.consume(r -> true, 1), "ring buffer 'rb'");
            assertClosedError(() -> ring.poll(r -> true, Duration.ZERO), "ring buffer 'rb'");
            assertClosedError(ring::availableBytes, "ring buffer 'rb'");
            assertClosedError(ring::producerPosition, "ring buffer 'rb'");
            assertClosedError(ring::consumerPosition, "ring buffer 'rb'");
            assertEquals(0, ring.delivered(), "counters stay readable");

            RingBufferPoller poller = RingBufferPoller.builder().add(map, r -> true).build();
            poller.close();
            assertClosedError(poller::consume, "poller");
            assertClosedError(() -> poller.poll(Duration.ZERO), "poller");
            assertClosedError(() -> poller.availableBytes(0), "poller");
        }
    }

    @Test
    void aPollLoopEndsWhenAnotherThreadClosesTheRing() throws Exception {
        try (BpfMap map = BpfMap.create(MapType.RINGBUF, 0, 0, SIZE, 0, "rb")) {
            RingBuffer ring = RingBuffer.of(map);
            AtomicInteger calls = new AtomicInteger();
            CompletableFuture<Throwable> loop = CompletableFuture.supplyAsync(() -> {
                try {
                    while (true) {
                        calls.incrementAndGet();
                        ring.poll(r -> true, Duration.ofMillis(100));
                    }
                } catch (Throwable t) {
                    return t;
                }
            });
            Thread.sleep(150);
            ring.close();
            Throwable end = loop.get(2, TimeUnit.SECONDS);
            assertInstanceOf(BufferClosedException.class, end);
            assertTrue(calls.get() < 10, "the loop polled " + calls.get() + " times: it spun after close");
        }
    }

    @Test
    void pollAcceptsTheLongestTimeoutAndAWakeupEndsIt() throws Exception {
        try (BpfMap map = BpfMap.create(MapType.RINGBUF, 0, 0, SIZE, 0, "rb"); RingBuffer ring = RingBuffer.of(map)) {
            BlockedCall<Integer> blocked = BlockedCall.start("poll forever",
                    () -> ring.poll(r -> true, Duration.ofSeconds(Long.MAX_VALUE)));
            ring.wakeup();
            assertEquals(0, blocked.get());
        }
    }

    @Test
    void aHandlerThatClosesItsRingReceivesNoMoreRecords() {
        try (Producer p = Producer.load(SIZE)) {
            p.configure(50, 32, 0, 0).run(1);
            RingBuffer ring = RingBuffer.of(p.ring());
            AtomicInteger seen = new AtomicInteger();
            int n = ring.consume(r -> {
                seen.incrementAndGet();
                ring.close();
                return true;
            });
            assertEquals(1, n);
            assertEquals(1, seen.get(), "records after the close were delivered");
            try (RingBuffer next = RingBuffer.of(p.ring())) {
                assertEquals(49, next.consume(r -> true), "the rest stay in the ring for the next reader");
            }
        }
    }

    @Test
    void aHandlerThatClosesItsPollerReceivesNoMoreRecords() {
        try (Producer p = Producer.load(SIZE)) {
            p.configure(50, 32, 0, 0).run(1);
            AtomicInteger seen = new AtomicInteger();
            AtomicReference<RingBufferPoller> self = new AtomicReference<>();
            RingBufferPoller poller = RingBufferPoller.builder().add(p.ring(), r -> {
                seen.incrementAndGet();
                self.get().close();
                return true;
            }).build();
            self.set(poller);
            assertEquals(1, poller.consume());
            assertEquals(1, seen.get());
            assertTrue(poller.isClosed());
        }
    }

    @Test
    void aReentrantConsumeFromAHandlerIsRefusedAsReentrant() {
        try (Producer p = Producer.load(SIZE); RingBuffer ring = RingBuffer.of(p.ring())) {
            p.configure(2, 32, 0, 0).run(1);
            BpfException e = assertThrows(BpfException.class, () -> ring.consume(r -> {
                ring.consume(inner -> true);
                return true;
            }));
            assertTrue(e.getMessage().contains("re-entrant"), e.getMessage());
            assertTrue(e.getMessage().contains(Thread.currentThread().getName()), e.getMessage());
            assertEquals(1, ring.consume(r -> true), "the ring stays usable");
        }
    }

    @Test
    void queriesRacingCloseFailWithTheClosedErrorOnly() throws Exception {
        for (int round = 0; round < 30; round++) {
            try (BpfMap map = BpfMap.create(MapType.RINGBUF, 0, 0, SIZE, 0, "rb")) {
                RingBuffer ring = RingBuffer.of(map);
                CompletableFuture<Throwable> asker = CompletableFuture.supplyAsync(() -> {
                    try {
                        while (true) {
                            ring.availableBytes();
                            ring.producerPosition();
                            ring.consumerPosition();
                        }
                    } catch (Throwable t) {
                        return t;
                    }
                });
                Thread.sleep(round % 3);
                ring.close();
                Throwable t = asker.get(2, TimeUnit.SECONDS);
                assertInstanceOf(BufferClosedException.class, t, "round " + round + ": " + t);
            }
        }
    }

    @Test
    void aRecordKeptPastCloseThrowsOnUseInsteadOfCrashing() throws Exception {
        try (Producer p = Producer.load(SIZE)) {
            p.configure(1, 64, 0, 0).run(1);
            AtomicReference<MemorySegment> kept = new AtomicReference<>();
            RingBuffer ring = RingBuffer.of(p.ring());
            assertEquals(1, ring.consume(r -> {
                kept.set(r);
                return true;
            }));
            ring.close();
            // Read from another thread too: the mapping is gone, and the segment must say so.
            Throwable t = CompletableFuture.supplyAsync(() -> {
                try {
                    kept.get().get(ValueLayout.JAVA_LONG, 0);
                    return null;
                } catch (Throwable e) {
                    return e;
                }
            }).get(2, TimeUnit.SECONDS);
            assertInstanceOf(IllegalStateException.class, t, "a record used after close must throw");
            assertThrows(IllegalStateException.class, () -> kept.get().get(ValueLayout.JAVA_BYTE, 0));
            assertTrue(kept.get().isReadOnly(), "records are read-only views of the kernel's pages");
        }
    }

    private static void assertClosedError(org.junit.jupiter.api.function.Executable call, String names) {
        BufferClosedException e = assertThrows(BufferClosedException.class, call);
        assertTrue(e.getMessage().contains(names) && e.getMessage().contains("is closed"), e.getMessage());
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
