package dev.panbpf.ringbuf;

import dev.panbpf.BpfException;
import dev.panbpf.BpfMap;
import dev.panbpf.MapType;
import dev.panbpf.bindings.sys_mman_h;
import dev.panbpf.internal.Sys;
import dev.panbpf.testing.BlockedCall;
import dev.panbpf.testing.Kernel;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.time.Duration;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The Java side of a user ring buffer on a real USER_RINGBUF map, watched through a second, read-only mapping of
 * the same map: what reserve, submit and discard leave in the shared memory, a full ring, and the errors. Draining
 * by a BPF program is in {@link UserRingBufferKernelTest}.
 */
class UserRingBufferTest {
    private static final int SIZE = 4096;

    @BeforeAll
    static void root() {
        Kernel.requireRoot();
    }

    /** A read-only view of a user ring map, as the kernel sees it. */
    private record View(MemorySegment producerPage, MemorySegment data) {
        static View of(Arena arena, BpfMap map) {
            MemorySegment p = Sys.mmap(arena, RingLayout.producerMappingLength(SIZE), sys_mman_h.PROT_READ(),
                    map.fd(), RingLayout.producerMappingOffset(), "test view");
            return new View(p, p.asSlice(RingLayout.dataOffset(), 2L * SIZE));
        }

        long producerPos() {
            return producerPage.get(ValueLayout.JAVA_LONG, 0);
        }

        int header(long pos) {
            return data.get(ValueLayout.JAVA_INT, pos & (SIZE - 1));
        }
    }

    @Test
    void reserveMarksTheSampleBusyAndSubmitPublishesIt() {
        try (BpfMap map = BpfMap.create(MapType.USER_RINGBUF, 0, 0, SIZE, 0, "ub");
             UserRingBuffer ring = UserRingBuffer.of(map); Arena arena = Arena.ofConfined()) {
            View view = View.of(arena, map);
            MemorySegment sample = ring.reserve(20);
            assertNotNull(sample);
            assertEquals(20, sample.byteSize());
            assertEquals(32, view.producerPos(), "8-byte header + 20 bytes, rounded up to 8");
            assertEquals(20 | RingLayout.BUSY_BIT, view.header(0));
            sample.set(ValueLayout.JAVA_LONG, 0, 0x1122334455667788L);
            ring.submit(sample);
            assertEquals(20, view.header(0), "BUSY cleared, length kept");
            assertEquals(0x1122334455667788L, view.data().get(ValueLayout.JAVA_LONG, RingLayout.HEADER_SIZE));

            MemorySegment dropped = ring.reserve(8);
            ring.discard(dropped);
            assertEquals(8 | RingLayout.DISCARD_BIT, view.header(32));
            assertEquals(1, ring.submitted());
            assertEquals(1, ring.discarded());
            assertEquals(SIZE - 48, ring.freeBytes());
        }
    }

    @Test
    void aFullRingGivesNullAndABlockingReserveWaitsItsTimeout() {
        try (BpfMap map = BpfMap.create(MapType.USER_RINGBUF, 0, 0, SIZE, 0, "ub");
             UserRingBuffer ring = UserRingBuffer.of(map)) {
            int n = 0;
            MemorySegment s;
            while ((s = ring.reserve(120)) != null) {         // 128 bytes each: exactly 32 fit
                ring.submit(s);
                n++;
            }
            assertEquals(SIZE / 128, n);
            assertEquals(0, ring.freeBytes());
            long t0 = System.nanoTime();
            assertNull(ring.reserve(8, Duration.ofMillis(60)), "nobody drains, so no room comes");
            assertTrue(System.nanoTime() - t0 >= 60_000_000L);
        }
    }

    @Test
    void wakeupAndCloseReleaseAReserveWaitingForRoom() throws Exception {
        try (BpfMap map = BpfMap.create(MapType.USER_RINGBUF, 0, 0, SIZE, 0, "ub")) {
            UserRingBuffer ring = UserRingBuffer.of(map);
            ring.submit(ring.reserve(SIZE - 8));              // one sample fills the ring
            BlockedCall<MemorySegment> blocked = BlockedCall.start("blocked-reserve",
                    () -> ring.reserve(8, Duration.ofSeconds(10)));
            long t0 = System.nanoTime();
            ring.wakeup();
            assertNull(blocked.get());
            assertTrue(blocked.millisSince(t0) < 2000, "returned " + blocked.millisSince(t0) + " ms after wakeup");

            blocked = BlockedCall.start("blocked-reserve", () -> ring.reserve(8, Duration.ofSeconds(10)));
            BpfException busy = assertThrows(BpfException.class, () -> ring.reserve(8));
            assertTrue(busy.getMessage().contains("already has a thread reserving"), busy.getMessage());
            t0 = System.nanoTime();
            ring.close();
            assertNull(blocked.get());
            assertTrue(blocked.millisSince(t0) < 2000, "returned " + blocked.millisSince(t0) + " ms after close");
            BpfException closed = assertThrows(BpfException.class, () -> ring.reserve(8));
            assertTrue(closed.getMessage().contains("closed"), closed.getMessage());
        }
    }

    /** An interrupt ends a reserve waiting for room with null and keeps the status; later waits end at once too. */
    @Test
    void anInterruptReleasesAReserveWaitingForRoomWithNullAndKeepsTheStatus() throws Exception {
        for (boolean virtual : new boolean[] {false, true}) {
            try (BpfMap map = BpfMap.create(MapType.USER_RINGBUF, 0, 0, SIZE, 0, "ub");
                 UserRingBuffer ring = UserRingBuffer.of(map)) {
                ring.submit(ring.reserve(SIZE - 8));          // one sample fills the ring; nothing drains it
                java.util.concurrent.atomic.AtomicBoolean kept = new java.util.concurrent.atomic.AtomicBoolean();
                java.util.concurrent.Callable<MemorySegment> call = () -> {
                    MemorySegment s = ring.reserve(8, Duration.ofSeconds(30));
                    for (int i = 0; i < 3 && s == null; i++) {   // the interrupted thread's next waits end too
                        s = ring.reserve(8, Duration.ofSeconds(30));
                    }
                    kept.set(Thread.currentThread().isInterrupted());
                    return s;
                };
                BlockedCall<MemorySegment> blocked = virtual ? BlockedCall.startVirtual("interrupted-reserve", call)
                        : BlockedCall.start("interrupted-reserve", call);
                assertFalse(blocked.result.isDone(), "the reserve should be waiting for room");
                long t0 = System.nanoTime();
                blocked.thread.interrupt();
                assertNull(blocked.get(), virtual ? "virtual thread" : "platform thread");
                assertTrue(blocked.millisSince(t0) < 2000,
                        "returned " + blocked.millisSince(t0) + " ms after the interrupt");
                assertTrue(kept.get(), "the interrupt status stays set");
            }
        }
    }

    @Test
    void sizesThatCanNeverFitAreRefusedUpFront() {
        try (BpfMap map = BpfMap.create(MapType.USER_RINGBUF, 0, 0, SIZE, 0, "ub");
             UserRingBuffer ring = UserRingBuffer.of(map)) {
            assertEquals(SIZE - 8, ring.maxSampleSize());
            for (int bad : new int[]{SIZE - 7, SIZE, -1, Integer.MAX_VALUE}) {
                IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ring.reserve(bad));
                assertTrue(e.getMessage().contains("cannot fit") && e.getMessage().contains("make the map larger"),
                        e.getMessage());
                assertThrows(IllegalArgumentException.class, () -> ring.reserve(bad, Duration.ofSeconds(10)));
            }
            assertNotNull(ring.reserve(SIZE - 8), "the largest sample fits an empty ring");
        }
    }

    @Test
    void onlyAPendingSampleOfThisRingCanBeSubmitted() {
        try (BpfMap map = BpfMap.create(MapType.USER_RINGBUF, 0, 0, SIZE, 0, "ub");
             UserRingBuffer ring = UserRingBuffer.of(map); Arena arena = Arena.ofConfined()) {
            MemorySegment sample = ring.reserve(16);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> ring.submit(arena.allocate(16)));
            assertTrue(e.getMessage().contains("not a sample reserved from"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> ring.submit(sample.asSlice(0, 8)));
            assertTrue(e.getMessage().contains("not a pending sample"), e.getMessage());
            ring.submit(sample);
            e = assertThrows(IllegalArgumentException.class, () -> ring.discard(sample));
            assertTrue(e.getMessage().contains("already"), e.getMessage());
            assertEquals(1, ring.submitted());
            assertEquals(0, ring.discarded());
        }
    }

    @Test
    void refusesMapsThatAreNotUserRingBuffersAndASecondWriter() {
        try (BpfMap rb = BpfMap.create(MapType.RINGBUF, 0, 0, SIZE, 0, "rb");
             BpfMap ub = BpfMap.create(MapType.USER_RINGBUF, 0, 0, SIZE, 0, "ub")) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> UserRingBuffer.of(rb));
            assertTrue(e.getMessage().contains("RingBuffer"), e.getMessage());
            int fds = Kernel.openFds();
            try (UserRingBuffer first = UserRingBuffer.of(ub)) {
                BpfException twice = assertThrows(BpfException.class, () -> UserRingBuffer.of(ub));
                assertTrue(twice.getMessage().contains("already open") && twice.getMessage().contains(first.toString()),
                        twice.getMessage());
            }
            assertEquals(fds, Kernel.openFds(), "close released the epoll and eventfd");
        }
    }
}
