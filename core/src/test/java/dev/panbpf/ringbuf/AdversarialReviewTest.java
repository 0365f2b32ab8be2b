package dev.panbpf.ringbuf;

import dev.panbpf.BpfException;
import dev.panbpf.BpfMap;
import dev.panbpf.BpfObject;
import dev.panbpf.BpfProgram;
import dev.panbpf.BufferClosedException;
import dev.panbpf.MapType;
import dev.panbpf.bpf.BpfPrograms;
import dev.panbpf.internal.ConsumerGate;
import dev.panbpf.internal.Deadline;
import dev.panbpf.internal.Epoll;
import dev.panbpf.testing.BlockedCall;
import dev.panbpf.testing.Kernel;
import dev.panbpf.testing.Producer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Adversarial review of the ring readers, the user ring writer, globals and objects: misuse in every order the
 * API allows. {@link Holds} are promises that held when the review ran; {@link FixedDefects} are the defects it found,
 * one test each, which failed then and pass since their fixes (each comment says what the defect was).
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class AdversarialReviewTest {
    private static final MethodHandle DUP;
    private static final MethodHandle CLOSE;

    static {
        Linker l = Linker.nativeLinker();
        DUP = l.downcallHandle(l.defaultLookup().find("dup").orElseThrow(),
                FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));
        CLOSE = l.downcallHandle(l.defaultLookup().find("close").orElseThrow(),
                FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));
    }

    @BeforeAll
    static void root() {
        Kernel.requireRoot();
    }

    static int dup(int fd) throws Throwable {
        return (int) DUP.invokeExact(fd);
    }

    static void closeFd(int fd) throws Throwable {
        int r = (int) CLOSE.invokeExact(fd);
        assertEquals(0, r);
    }

    /** Waits up to 2 s for the process fd count to come back to {@code before}. */
    static void assertFdsBackTo(int before) throws InterruptedException {
        long end = System.nanoTime() + 2_000_000_000L;
        while (Kernel.openFds() > before && System.nanoTime() < end) {
            Thread.sleep(10);
        }
        assertEquals(before, Kernel.openFds(), "leaked fds");
    }

    /** This thread's user + system CPU time from /proc/thread-self/stat (10 ms resolution). */
    static long threadCpuNanos() throws java.io.IOException {
        String stat = java.nio.file.Files.readString(java.nio.file.Path.of("/proc/thread-self/stat"));
        String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        return (Long.parseLong(f[11]) + Long.parseLong(f[12])) * 10_000_000L;
    }

    static Thread start(String name, Runnable r) {
        Thread t = new Thread(r, name);
        t.setDaemon(true);
        t.start();
        return t;
    }

    // ============================================================================================== promises held

    @Nested
    class Holds {
        @Test
        void closeReleasesAnEndlessPollWithin100msAndEveryLaterCallThrowsBufferClosed() throws Exception {
            int fds = Kernel.openFds();
            try (Producer p = Producer.load(0)) {
                RingBuffer ring = RingBuffer.of(p.ring());
                BlockedCall<Integer> call = BlockedCall.start("endless poll",
                        () -> ring.poll(r -> true, Duration.ofSeconds(Long.MAX_VALUE, 999_999_999)));
                assertFalse(call.result.isDone(), "an endless poll on an empty ring returned");
                long t0 = System.nanoTime();
                ring.close();
                assertEquals(0, call.get());
                assertTrue(call.millisSince(t0) < 100, "close took " + call.millisSince(t0) + " ms");
                List<Runnable> calls = List.of(() -> ring.consume(r -> true), () -> ring.consume(r -> true, 0),
                        () -> ring.poll(r -> true, Duration.ZERO), () -> ring.poll(r -> true, Duration.ofDays(1)),
                        ring::availableBytes, ring::producerPosition, ring::consumerPosition);
                for (Runnable c : calls) {
                    assertThrows(BufferClosedException.class, c::run);
                }
                ring.close();                       // idempotent
                ring.wakeup();                      // no-op, must not write to a freed fd number
                assertTrue(ring.isClosed());
            }
            assertFdsBackTo(fds);
        }

        @Test
        void recordKeptPastCloseThrowsOnEveryThreadInsteadOfFaulting() throws Exception {
            try (Producer p = Producer.load(0)) {
                p.configure(4, 64, 0, 0).run(1);
                RingBuffer ring = RingBuffer.of(p.ring());
                List<MemorySegment> kept = new ArrayList<>();
                assertEquals(4, ring.consume(r -> kept.add(r)));
                AtomicReference<Throwable> reader = new AtomicReference<>();
                AtomicLong reads = new AtomicLong();
                Thread t = start("record reader", () -> {
                    try {
                        while (true) {
                            for (MemorySegment r : kept) {
                                r.get(ValueLayout.JAVA_LONG, 0);
                            }
                            reads.incrementAndGet();
                        }
                    } catch (Throwable e) {
                        reader.set(e);
                    }
                });
                while (reads.get() < 1000) {
                    Thread.onSpinWait();
                }
                ring.close();
                t.join(5000);
                assertFalse(t.isAlive());
                assertInstanceOf(IllegalStateException.class, reader.get());
                for (MemorySegment r : kept) {
                    assertThrows(IllegalStateException.class, () -> r.get(ValueLayout.JAVA_BYTE, 0));
                }
                // A record is read-only: the consumer can never scribble over the kernel's pages.
                try (RingBuffer again = RingBuffer.of(p.ring())) {
                    p.run(1);
                    again.consume(r -> {
                        assertThrows(IllegalArgumentException.class,
                                () -> r.set(ValueLayout.JAVA_LONG, 0, 1L));
                        return true;
                    });
                }
            }
        }

        @Test
        void closeFromInsideTheHandlerLosesNothingAndTheRecordStaysReadable() throws Exception {
            int fds = Kernel.openFds();
            try (Producer p = Producer.load(0)) {
                p.configure(10, 64, 0, 0).run(1);
                RingBuffer ring = RingBuffer.of(p.ring());
                List<Long> seen = new ArrayList<>();
                int n = ring.poll(r -> {
                    seen.add(p.check(r));
                    if (seen.size() == 3) {
                        ring.close();
                        assertThrows(BufferClosedException.class, () -> ring.consume(x -> true));
                        assertThrows(BufferClosedException.class, () -> ring.poll(x -> true, Duration.ZERO));
                        ring.wakeup();
                        p.check(r);                   // still mapped: the consumer is inside
                    }
                    return true;
                }, Duration.ofSeconds(1));
                assertEquals(3, n);
                assertTrue(ring.isClosed());
                try (RingBuffer next = RingBuffer.of(p.ring())) {
                    assertEquals(7, next.consume(r -> seen.add(p.check(r))));
                }
                for (int i = 0; i < 10; i++) {
                    assertEquals(i, seen.get(i), "order or loss: " + seen);
                }
            }
            assertFdsBackTo(fds);
        }

        @Test
        void reentrantCallsFromAHandlerAreRefusedAndTheRecordIsNotLost() {
            try (Producer p = Producer.load(0); RingBuffer ring = RingBuffer.of(p.ring())) {
                p.configure(2, 64, 0, 0).run(1);
                AtomicReference<Throwable> inner = new AtomicReference<>();
                assertEquals(1, ring.consume(r -> {
                    try {
                        ring.consume(x -> true);
                    } catch (Throwable e) {
                        inner.set(e);
                    }
                    try {
                        ring.poll(x -> true, Duration.ZERO);
                    } catch (Throwable e) {
                        assertInstanceOf(BpfException.class, e);
                    }
                    assertTrue(ring.availableBytes() >= 0);   // queries from a handler are fine
                    return false;
                }));
                assertInstanceOf(BpfException.class, inner.get());
                assertTrue(inner.get().getMessage().contains("re-entrant"), inner.get().getMessage());
                assertEquals(1, ring.consume(r -> true));
            }
        }

        @Test
        void hugeNegativeAndZeroArguments() throws Exception {
            try (Producer p = Producer.load(0); RingBuffer ring = RingBuffer.of(p.ring())) {
                assertThrows(IllegalArgumentException.class, () -> ring.poll(r -> true, Duration.ofNanos(-1)));
                assertThrows(IllegalArgumentException.class, () -> ring.consume(r -> true, -1));
                assertThrows(IllegalArgumentException.class, () -> ring.consume(r -> true, Integer.MIN_VALUE));
                assertThrows(NullPointerException.class, () -> ring.consume((RecordHandler) null));
                p.configure(5, 64, 0, 0).run(1);
                assertEquals(0, ring.consume(r -> true, 0));
                assertEquals(5L * 72, ring.availableBytes(), "limit 0 consumed something");
                assertEquals(2, ring.consume(r -> true, 2));
                assertEquals(3, ring.poll(r -> true, Duration.ofSeconds(Long.MAX_VALUE)));
                // 1 ns and "just below a century" must neither spin nor overflow.
                long t0 = System.nanoTime();
                assertEquals(0, ring.poll(r -> true, Duration.ofNanos(1)));
                assertTrue(System.nanoTime() - t0 < 50_000_000L);
                BlockedCall<Integer> longPoll = BlockedCall.start("99 years",
                        () -> ring.poll(r -> true, Duration.ofDays(365L * 99)));
                assertFalse(longPoll.result.isDone(), "a 99-year poll returned at once (overflow?)");
                ring.wakeup();
                assertEquals(0, longPoll.get());
                // A wakeup with nobody waiting ends the next wait, once.
                ring.wakeup();
                t0 = System.nanoTime();
                assertEquals(0, ring.poll(r -> true, Duration.ofSeconds(5)));
                assertTrue(System.nanoTime() - t0 < 1_000_000_000L);
                t0 = System.nanoTime();
                assertEquals(0, ring.poll(r -> true, Duration.ofMillis(50)));
                assertTrue(System.nanoTime() - t0 >= 45_000_000L, "second poll ended early: wakeup counted twice");
            }
            assertThrows(IllegalArgumentException.class, () -> RingBufferPoller.builder().batch(0));
            assertThrows(IllegalArgumentException.class, () -> RingBufferPoller.builder().batch(-5));
            assertThrows(IllegalArgumentException.class, () -> RingBufferPoller.builder().build());
        }

        @Test
        void secondReaderOnOneMapIsRefusedInEveryCombinationWithoutLeaking() throws Throwable {
            int fds;
            try (Producer p = Producer.load(0)) {
                fds = Kernel.openFds();
                BpfMap map = p.ring();
                int dupFd = dup(map.fd());
                BpfMap alias = BpfMap.describe(dupFd, "rb alias");
                try (RingBuffer ring = RingBuffer.of(map)) {
                    assertThrows(BpfException.class, () -> RingBuffer.of(map));
                    assertThrows(BpfException.class, () -> RingBuffer.of(alias));
                    assertThrows(BpfException.class, () -> RingBufferPoller.builder().add(map, r -> true).build());
                    assertThrows(BpfException.class, () -> RingBufferPoller.builder().add(alias, r -> true).build());
                    assertFalse(ring.isClosed());
                }
                try (RingBufferPoller poller = RingBufferPoller.builder().add(alias, r -> true).build()) {
                    assertThrows(BpfException.class, () -> RingBuffer.of(map));
                    assertEquals(0, poller.consume());
                }
                // The same map twice in one poller.
                assertThrows(BpfException.class,
                        () -> RingBufferPoller.builder().add(map, r -> true).add(alias, r -> true).build());
                // One builder, built twice.
                RingBufferPoller.Builder b = RingBufferPoller.builder().add(map, r -> true);
                try (RingBufferPoller first = b.build()) {
                    assertThrows(BpfException.class, b::build);
                }
                b.build().close();
                closeFd(dupFd);
                assertFdsBackTo(fds);
            }
            try (BpfObject o = BpfObject.open(BpfPrograms.bytes("user_ringbuf.bpf.o"), "user_ringbuf")) {
                o.setMaxEntries("user_rb", 4 * 4096).load();
                fds = Kernel.openFds();
                BpfMap m = o.map("user_rb");
                int dupFd = dup(m.fd());
                try (UserRingBuffer w = UserRingBuffer.of(m)) {
                    assertThrows(BpfException.class, () -> UserRingBuffer.of(m));
                    assertThrows(BpfException.class, () -> UserRingBuffer.of(BpfMap.describe(dupFd, "alias")));
                    assertThrows(IllegalArgumentException.class, () -> RingBuffer.of(m));
                    assertNotNull(w.reserve(8));
                }
                closeFd(dupFd);
                assertFdsBackTo(fds);
            }
        }

        @Test
        void closingTheObjectUnderAPollingRingNeitherCrashesNorHangs() throws Exception {
            int fds = Kernel.openFds();
            Producer p = Producer.load(0);
            p.configure(3, 64, 0, 0).run(1);
            BpfMap map = p.ring();
            RingBuffer ring = RingBuffer.of(map);
            AtomicInteger got = new AtomicInteger();
            AtomicBoolean stop = new AtomicBoolean();
            AtomicReference<Throwable> failure = new AtomicReference<>();
            Thread poller = start("poller", () -> {
                try {
                    while (!stop.get()) {
                        got.addAndGet(ring.poll(r -> true, Duration.ofMillis(20)));
                    }
                } catch (BufferClosedException expected) {
                    // closed meanwhile
                } catch (Throwable e) {
                    failure.set(e);
                }
            });
            Thread.sleep(100);
            p.close();
            Thread.sleep(100);
            assertTrue(map.isClosed());
            assertThrows(BpfException.class, () -> RingBuffer.of(map));
            assertThrows(BpfException.class, () -> p.object.map("rb"));
            long t0 = System.nanoTime();
            ring.close();
            poller.join(2000);
            assertFalse(poller.isAlive(), "poller stuck after close");
            assertTrue(System.nanoTime() - t0 < 1_000_000_000L);
            assertNull(failure.get(), () -> "poller failed: " + failure.get());
            assertEquals(3, got.get());
            assertFdsBackTo(fds);
        }

        @Test
        void interruptedPollerOnAnEmptyRingNeitherSpinsNorIgnoresClose() throws Exception {
            try (Producer p = Producer.load(0)) {
                RingBuffer ring = RingBuffer.of(p.ring());
                AtomicReference<Thread> th = new AtomicReference<>();
                BlockedCall<Integer> call = BlockedCall.start("interrupted", () -> {
                    th.set(Thread.currentThread());
                    int total = 0;
                    for (int i = 0; i < 1000; i++) {      // a caller that keeps polling regardless
                        total += ring.poll(r -> true, Duration.ofMillis(100));
                    }
                    return total;
                });
                th.get().interrupt();
                Thread.sleep(200);
                assertFalse(call.result.isDone(), "returned early: the loop spins through its polls");
                assertEquals(0, ring.busyWaits());
                ring.close();
                Throwable e = assertThrows(java.util.concurrent.ExecutionException.class, call::get).getCause();
                assertInstanceOf(BufferClosedException.class, e);
            }
        }

        @Test
        void closeRacingConsumePollQueriesAndWakeupOnlyEverThrowsBufferClosed() throws Exception {
            int fds;
            try (Producer p = Producer.load(16 * 4096)) {
                p.configure(16, 32, 3, 0);
                fds = Kernel.openFds();
                long end = System.nanoTime() + 4_000_000_000L;
                int rounds = 0;
                while (System.nanoTime() < end) {
                    rounds++;
                    RingBuffer ring = RingBuffer.of(p.ring());
                    AtomicReference<Throwable> bad = new AtomicReference<>();
                    CountDownLatch go = new CountDownLatch(1);
                    List<Thread> ts = new ArrayList<>();
                    List<MemorySegment> kept = new java.util.concurrent.CopyOnWriteArrayList<>();
                    ts.add(start("consumer", () -> {
                        try {
                            go.await();
                            for (int i = 0; ; i++) {
                                if ((i & 1) == 0) {
                                    ring.poll(r -> { kept.add(r); return true; }, Duration.ofMillis(5));
                                } else {
                                    ring.consume(r -> true, 7);
                                }
                            }
                        } catch (BufferClosedException expected) {
                            // the end
                        } catch (Throwable e) {
                            bad.set(e);
                        }
                    }));
                    ts.add(start("queries", () -> {
                        try {
                            go.await();
                            while (true) {
                                ring.availableBytes();
                                ring.producerPosition();
                                ring.consumerPosition();
                                ring.wakeup();
                                ring.delivered();
                                ring.busyWaits();
                                if (!kept.isEmpty()) {
                                    try {
                                        kept.get(0).get(ValueLayout.JAVA_BYTE, 0);
                                    } catch (IllegalStateException closedRecord) {
                                        // the record's mapping went with the close: fine
                                    } catch (IndexOutOfBoundsException | java.util.ConcurrentModificationException
                                             racyList) {
                                        // our own unsynchronised list
                                    }
                                }
                            }
                        } catch (BufferClosedException expected) {
                            // the end
                        } catch (Throwable e) {
                            bad.set(e);
                        }
                    }));
                    go.countDown();
                    p.run(1);
                    Thread.sleep(rounds % 5);
                    ring.close();
                    for (Thread t : ts) {
                        t.join(2000);
                        assertFalse(t.isAlive(), "thread " + t.getName() + " stuck after close, round " + rounds);
                    }
                    assertNull(bad.get(), () -> "round: " + bad.get());
                    // Drain what is left with a fresh reader, so the ring never fills.
                    try (RingBuffer drain = RingBuffer.of(p.ring())) {
                        drain.consume(r -> true);
                    }
                }
                assertFdsBackTo(fds);
            }
        }

        @Test
        void userRingCloseReleasesAWaitingReserveAndKillsItsSamples() throws Exception {
            int fds = Kernel.openFds();
            try (BpfObject o = BpfObject.open(BpfPrograms.bytes("user_ringbuf.bpf.o"), "user_ringbuf")) {
                o.setMaxEntries("user_rb", 4096).load();
                UserRingBuffer w = UserRingBuffer.of(o.map("user_rb"));
                assertThrows(IllegalArgumentException.class, () -> w.reserve(-1));
                assertThrows(IllegalArgumentException.class, () -> w.reserve(Integer.MAX_VALUE));
                assertThrows(IllegalArgumentException.class, () -> w.reserve(Integer.MIN_VALUE));
                assertThrows(IllegalArgumentException.class, () -> w.reserve(8, Duration.ofSeconds(-1)));
                MemorySegment zero = w.reserve(0);
                assertNotNull(zero);
                w.submit(zero);
                assertThrows(IllegalArgumentException.class, () -> w.submit(zero));
                MemorySegment big = w.reserve(w.maxSampleSize() - 8 * 2);
                assertNotNull(big);
                assertThrows(IllegalArgumentException.class, () -> w.submit(big.asSlice(8)));
                assertThrows(IllegalArgumentException.class, () -> w.submit(MemorySegment.ofArray(new byte[8])));
                assertThrows(IllegalArgumentException.class, () -> w.submit(Arena.ofAuto().allocate(8)));
                BlockedCall<MemorySegment> call = BlockedCall.start("full reserve",
                        () -> w.reserve(64, Duration.ofSeconds(Long.MAX_VALUE)));
                assertFalse(call.result.isDone());
                long t0 = System.nanoTime();
                w.close();
                assertNull(call.get());
                assertTrue(call.millisSince(t0) < 100, "close took " + call.millisSince(t0) + " ms");
                assertEquals(1, w.droppedAtClose());
                assertThrows(BufferClosedException.class, () -> w.submit(big));
                assertThrows(BufferClosedException.class, () -> w.discard(big));
                assertThrows(IllegalStateException.class, () -> big.get(ValueLayout.JAVA_BYTE, 0));
                assertThrows(BufferClosedException.class, () -> w.reserve(8));
                assertThrows(BufferClosedException.class, () -> w.reserve(8, Duration.ZERO));
                assertThrows(BufferClosedException.class, w::freeBytes);
                assertThrows(BufferClosedException.class, w::producerPosition);
                assertThrows(BufferClosedException.class, w::consumerPosition);
                w.wakeup();
                w.close();
                // The BPF side drains past the sample the close discarded.
                try (UserRingBuffer again = UserRingBuffer.of(o.map("user_rb"))) {
                    o.program("drain").testRun(new byte[64], 1);
                    assertEquals(again.size(), again.freeBytes(), "the ring stayed stuck behind a BUSY sample");
                }
            }
            assertFdsBackTo(fds);
        }

        @Test
        void submitRacingCloseFromAnotherThreadOnlyThrowsBufferClosed() throws Exception {
            try (BpfObject o = BpfObject.open(BpfPrograms.bytes("user_ringbuf.bpf.o"), "user_ringbuf")) {
                o.setMaxEntries("user_rb", 16 * 4096).load();
                for (int round = 0; round < 200; round++) {
                    UserRingBuffer w = UserRingBuffer.of(o.map("user_rb"));
                    List<MemorySegment> samples = new ArrayList<>();
                    for (int i = 0; i < 50; i++) {
                        samples.add(w.reserve(32));
                    }
                    AtomicReference<Throwable> bad = new AtomicReference<>();
                    AtomicInteger ok = new AtomicInteger();
                    Thread t = start("submitter", () -> {
                        for (MemorySegment s : samples) {
                            try {
                                w.submit(s);
                                ok.incrementAndGet();
                            } catch (BufferClosedException expected) {
                                // lost the race
                            } catch (Throwable e) {
                                bad.set(e);
                                return;
                            }
                        }
                    });
                    if (round % 3 != 0) {
                        Thread.onSpinWait();
                    }
                    w.close();
                    t.join(2000);
                    assertFalse(t.isAlive());
                    assertNull(bad.get(), () -> "round: " + bad.get());
                    assertEquals(50, ok.get() + w.droppedAtClose(), "a sample neither submitted nor dropped");
                    try (UserRingBuffer again = UserRingBuffer.of(o.map("user_rb"))) {
                        o.program("drain").testRun(new byte[64], 1);
                        assertEquals(again.size(), again.freeBytes(), "round " + round + ": ring stuck");
                    }
                }
            }
        }

        @Test
        void globalsBeforeAndAfterLoadAndAfterClose() {
            BpfObject obj = BpfObject.openResource("dev/panbpf/bpf/queue.bpf.o");
            MemorySegment before = obj.global("next_value");
            before.set(ValueLayout.JAVA_LONG, 0, 5);
            assertThrows(BpfException.class, () -> obj.global("nope"));
            assertThrows(IllegalArgumentException.class, () -> obj.setGlobal("next_value", 1));   // 4 vs 8 bytes
            obj.load();
            assertThrows(IllegalStateException.class, () -> before.get(ValueLayout.JAVA_LONG, 0));
            assertThrows(BpfException.class, obj::load);
            MemorySegment live = obj.global("next_value");
            assertEquals(5, live.get(ValueLayout.JAVA_LONG, 0));
            MemorySegment valueBuf = Arena.ofAuto().allocate(8);
            BpfMap values = obj.map("values");
            obj.close();
            obj.close();
            assertThrows(IllegalStateException.class, () -> live.get(ValueLayout.JAVA_LONG, 0));
            assertThrows(BpfException.class, () -> obj.global("next_value"));
            assertThrows(BpfException.class, () -> obj.setGlobal("next_value", 1L));
            assertThrows(BpfException.class, () -> obj.map("values"));
            assertThrows(BpfException.class, () -> obj.program("push_values"));
            assertThrows(BpfException.class, () -> values.pop(valueBuf));
            assertThrows(BpfException.class, values::fd);
        }

        @Test
        void pollerClosedFromAHandlerStopsAtOnceAndLosesNothing() throws Exception {
            int fds = Kernel.openFds();
            try (Producer a = Producer.load(0); Producer b = Producer.load(0)) {
                a.configure(5, 64, 0, 0).run(1);
                b.configure(5, 64, 0, 0).run(1);
                AtomicInteger fromA = new AtomicInteger();
                AtomicInteger fromB = new AtomicInteger();
                AtomicReference<RingBufferPoller> self = new AtomicReference<>();
                RingBufferPoller poller = RingBufferPoller.builder()
                        .add(a.ring(), r -> { if (fromA.incrementAndGet() == 2) { self.get().close(); } return true; })
                        .add(b.ring(), r -> { fromB.incrementAndGet(); return true; })
                        .batch(Integer.MAX_VALUE)
                        .build();
                self.set(poller);
                poller.poll(Duration.ofSeconds(1));
                assertTrue(poller.isClosed());
                assertEquals(2, fromA.get());
                assertEquals(0, fromB.get(), "a handler ran after its poller was closed");
                assertThrows(BufferClosedException.class, poller::consume);
                assertThrows(BufferClosedException.class, () -> poller.poll(Duration.ZERO));
                assertThrows(BufferClosedException.class, () -> poller.availableBytes(0));
                try (RingBuffer ra = RingBuffer.of(a.ring()); RingBuffer rb = RingBuffer.of(b.ring())) {
                    assertEquals(3, ra.consume(r -> true));
                    assertEquals(5, rb.consume(r -> true));
                }
            }
            assertFdsBackTo(fds);
        }

        @Test
        void pingPongWithTheKernelNeverLosesAWakeup() throws Exception {
            try (Producer p = Producer.load(0); RingBuffer ring = RingBuffer.of(p.ring())) {
                p.configure(1, 32, 0, 0);
                AtomicLong got = new AtomicLong();
                AtomicReference<Throwable> bad = new AtomicReference<>();
                AtomicBoolean stop = new AtomicBoolean();
                Thread consumer = start("consumer", () -> {
                    try {
                        while (!stop.get()) {
                            ring.poll(r -> { got.incrementAndGet(); return true; }, Duration.ofSeconds(30));
                        }
                    } catch (BufferClosedException expected) {
                        // end
                    } catch (Throwable e) {
                        bad.set(e);
                    }
                });
                int cpus = Runtime.getRuntime().availableProcessors();
                for (int i = 1; i <= 2000; i++) {
                    p.runOn(i % cpus, 1);
                    long end = System.nanoTime() + 2_000_000_000L;
                    while (got.get() < i) {
                        assertTrue(System.nanoTime() < end, "record " + i + " not delivered in 2 s: lost wakeup");
                        if ((i & 7) == 0) {
                            Thread.onSpinWait();
                        } else {
                            Thread.yield();
                        }
                    }
                }
                stop.set(true);
                ring.close();
                consumer.join(2000);
                assertFalse(consumer.isAlive());
                assertNull(bad.get());
            }
        }

        @Test
        void userRingReserveWaitingForRoomNeverMissesTheDrainWakeup() throws Exception {
            try (BpfObject o = BpfObject.open(BpfPrograms.bytes("user_ringbuf.bpf.o"), "user_ringbuf")) {
                o.setMaxEntries("user_rb", 4096).load();
                try (UserRingBuffer w = UserRingBuffer.of(o.map("user_rb"))) {
                    int size = 2040;          // two samples fill the ring
                    AtomicBoolean stop = new AtomicBoolean();
                    AtomicReference<Throwable> bad = new AtomicReference<>();
                    Thread drainer = start("drainer", () -> {
                        try {
                            long n = 0;
                            while (!stop.get()) {
                                if (w.freeBytes() < size + 8) {
                                    if ((n++ & 3) == 0) {
                                        Thread.sleep(0, 200_000);
                                    }
                                    o.program("drain").testRun(new byte[64], 1);
                                } else {
                                    Thread.onSpinWait();
                                }
                            }
                        } catch (BufferClosedException expected) {
                            // end
                        } catch (Throwable e) {
                            bad.set(e);
                        }
                    });
                    for (int i = 0; i < 1000; i++) {
                        MemorySegment s = w.reserve(size, Duration.ofSeconds(3));
                        assertNotNull(s, "sample " + i + ": no room within 3 s although the drainer drains: lost "
                                + "wakeup");
                        s.fill((byte) 0);
                        s.set(ValueLayout.JAVA_LONG, 0, i);
                        s.set(ValueLayout.JAVA_INT, 8, size);
                        for (int k = 16; k < size; k++) {
                            s.set(ValueLayout.JAVA_BYTE, k, (byte) (i + k));
                        }
                        w.submit(s);
                    }
                    stop.set(true);
                    drainer.join(2000);
                    assertNull(bad.get(), () -> "drainer: " + bad.get());
                }
            }
        }

        @Test
        void programsAndMapsOfAClosedObjectRefuseWithALibraryError() {
            Producer p = Producer.load(0);
            BpfProgram prog = p.object.program("produce");
            BpfMap config = p.object.map("config");
            p.close();
            assertThrows(BpfException.class, () -> prog.testRun(new byte[64]));
            assertThrows(BpfException.class, prog::fd);
            assertThrows(BpfException.class, () -> prog.testRun(Arena.ofAuto().allocate(64), 1, 0));
            assertThrows(IllegalArgumentException.class, () -> prog.testRun(new byte[64], 0));
            assertThrows(BpfException.class, () -> config.lookup(Arena.ofAuto().allocateFrom(ValueLayout.JAVA_INT, 0),
                    Arena.ofAuto().allocate(24)));
            assertThrows(BpfException.class, () -> config.keys().iterator().hasNext());
            assertThrows(BpfException.class, p.object::load);
            assertThrows(BpfException.class, () -> p.object.setMaxEntries("rb", 4096));
        }

        @Test
        void closeReleasesAnEndlessPollStuckOnABusyHeadWithin100ms() throws Exception {
            try (FakeRing fake = new FakeRing(4096)) {
                fake.reserve(16);
                RingReader reader = fake.reader();
                Epoll epoll = new Epoll(1);
                ConsumerGate gate = new ConsumerGate("fake", epoll::close);
                RingPollLoop loop = RingPollLoop.over(reader, gate, epoll);
                BlockedCall<Integer> call = BlockedCall.start("busy poll", () -> {
                    gate.enter();
                    try {
                        return loop.poll(r -> true, Deadline.NEVER);
                    } finally {
                        gate.exit();
                    }
                });
                assertFalse(call.result.isDone());
                long t0 = System.nanoTime();
                reader.stopForClose();                 // what RingBuffer.close() does
                if (gate.close()) {
                    epoll.wakeup();
                }
                assertEquals(0, call.get());
                assertTrue(call.millisSince(t0) < 100, "took " + call.millisSince(t0) + " ms");
            }
        }

        @Test
        void busyHeadPollSleepsInsteadOfSpinning() {
            try (FakeRing fake = new FakeRing(4096)) {
                assertTrue(busyWaitsIn300ms(fake, false) < 1000);
            }
        }
    }

    /** Polls a fake ring whose head record stays BUSY for 300 ms through the real RingPollLoop; its sleep count. */
    static long busyWaitsIn300ms(FakeRing fake, boolean interrupted) {
        fake.reserve(16);                                       // BUSY, never committed
        RingReader reader = fake.reader();
        Epoll epoll = new Epoll(1);
        ConsumerGate gate = new ConsumerGate("fake", () -> { });
        RingPollLoop loop = RingPollLoop.over(reader, gate, epoll);
        try {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
            gate.enter();
            try {
                assertEquals(0, loop.poll(r -> true, Deadline.after(Duration.ofMillis(300))));
            } finally {
                gate.exit();
            }
            return loop.busyWaits();
        } finally {
            Thread.interrupted();
            epoll.close();
        }
    }

    // ================================================================================================== defects

    @Nested
    class FixedDefects {
        /**
         * FIXED: a record handed out by RingBuffer and passed, after the handler, to a native call that is still
         * running when the ring closes (here BPF_PROG_TEST_RUN with the record as its packet) makes close() throw
         * a raw IllegalStateException ("Session is acquired by 1 clients") out of RingMapping.close: the shared
         * arena refuses to close while a downcall holds one of its segments. The release lambda in
         * RingBuffer's constructor (epoll.close(); mapping.close(); RingClaims.release(claim)) stops half way: the
         * claim on the map is never released, so no RingBuffer can be opened on that map again in this process,
         * and the mapping is never unmapped (the gate is CLOSED, release never reruns). The same lambda runs in
         * gate.exit() when the close came while a consumer was inside: then poll/consume throws it.
         */
        @Test
        void closeWhileARecordIsInANativeCallWaitsForItAndFreesTheMap() throws Exception {
            try (Producer p = Producer.load(0)) {
                p.configure(1, 64, 0, 0).run(1);
                RingBuffer ring = RingBuffer.of(p.ring());
                MemorySegment[] kept = new MemorySegment[1];
                assertEquals(1, ring.consume(r -> { kept[0] = r; return true; }));
                p.configure(1, 64, 0, 0);
                CountDownLatch started = new CountDownLatch(1);
                AtomicReference<Throwable> runFailure = new AtomicReference<>();
                Thread runner = start("test run on a record", () -> {
                    started.countDown();
                    try {
                        // Long enough (seconds) that the close below lands inside it.
                        p.object.program("produce").testRun(kept[0], 20_000_000);
                    } catch (Throwable e) {
                        runFailure.set(e);
                    }
                });
                started.await();
                Thread.sleep(100);
                assertTrue(runner.isAlive(), "the test run ended too soon to race the close");
                Throwable closeFailure = null;
                try {
                    ring.close();
                } catch (Throwable e) {
                    closeFailure = e;
                }
                runner.join(30_000);
                assertNull(runFailure.get(), () -> "test run: " + runFailure.get());
                assertTrue(ring.isClosed());
                // After the native call ended, the map must be readable again.
                Throwable reopen = null;
                try (RingBuffer again = RingBuffer.of(p.ring())) {
                    again.consume(r -> true);
                } catch (Throwable e) {
                    reopen = e;
                }
                Throwable c = closeFailure;
                Throwable r = reopen;
                assertAll(() -> assertNull(c, "close() threw " + c),
                        () -> assertNull(r, "reopening the map after close failed: " + r));
            }
        }

        /**
         * FIXED (same root cause, consumer path): when close() comes while a consumer is inside and a record is in
         * a native call, the release runs in ConsumerGate.exit() on the consumer thread, so poll() itself throws the
         * raw IllegalStateException (from its finally block, masking its result) instead of returning 0.
         */
        @Test
        void pollReleasedByCloseReturnsWhenARecordIsInANativeCall() throws Exception {
            try (Producer p = Producer.load(0)) {
                p.configure(1, 64, 0, 0).run(1);
                RingBuffer ring = RingBuffer.of(p.ring());
                MemorySegment[] kept = new MemorySegment[1];
                assertEquals(1, ring.consume(r -> { kept[0] = r; return true; }));
                p.configure(0, 64, 0, 0);           // the runs below produce nothing: the poll stays blocked
                Thread runner = start("test run on a record",
                        () -> p.object.program("produce").testRun(kept[0], 20_000_000));
                BlockedCall<Integer> poll = BlockedCall.start("poll", () -> ring.poll(r -> true, Duration.ofDays(1)));
                assertTrue(runner.isAlive(), "the test run ended too soon to race the close");
                assertDoesNotThrow(ring::close);
                Throwable failure = null;
                try {
                    poll.get();
                } catch (java.util.concurrent.ExecutionException e) {
                    failure = e.getCause();
                }
                runner.join(30_000);
                assertNull(failure, "poll released by close threw " + failure);
            }
        }

        /**
         * FIXED: same as above for UserRingBuffer: a reserved sample passed to a native call when close() runs
         * makes close throw a raw IllegalStateException from RingMapping.close inside the release lambda of
         * UserRingBuffer's constructor, after which RingClaims.release(claim) is skipped: the map can never be
         * written again in this process.
         */
        @Test
        void userRingCloseWhileASampleIsInANativeCallFreesTheMap() throws Exception {
            try (BpfObject o = BpfObject.open(BpfPrograms.bytes("user_ringbuf.bpf.o"), "user_ringbuf");
                 Producer p = Producer.load(0)) {
                o.setMaxEntries("user_rb", 4 * 4096).load();
                p.configure(1, 64, 0, 0);
                UserRingBuffer w = UserRingBuffer.of(o.map("user_rb"));
                MemorySegment sample = w.reserve(64);
                sample.fill((byte) 0);
                CountDownLatch started = new CountDownLatch(1);
                Thread runner = start("test run on a sample", () -> {
                    started.countDown();
                    p.object.program("produce").testRun(sample, 20_000_000);
                });
                started.await();
                Thread.sleep(100);
                assertTrue(runner.isAlive(), "the test run ended too soon to race the close");
                Throwable closeFailure = null;
                try {
                    w.close();
                } catch (Throwable e) {
                    closeFailure = e;
                }
                runner.join(30_000);
                Throwable reopen = null;
                try (UserRingBuffer again = UserRingBuffer.of(o.map("user_rb"))) {
                    assertNotNull(again);
                } catch (Throwable e) {
                    reopen = e;
                }
                Throwable c = closeFailure;
                Throwable r = reopen;
                assertAll(() -> assertNull(c, "close() threw " + c),
                        () -> assertNull(r, "reopening the map after close failed: " + r));
            }
        }

        /**
         * FIXED: spin. A poll on an interrupted thread whose head record is BUSY spins on the CPU until its
         * deadline: BusyBackoff.pause sleeps with LockSupport.parkNanos, which returns at once while the thread's
         * interrupt status is set (and RingPollLoop never looks at it), so the "20 µs doubling to 4 ms" backoff
         * becomes a busy loop (millions of passes in 300 ms instead of ~85). RingBuffer documents that interrupt
         * does not end a poll; it must not turn it into a spin either. Fix: in BusyBackoff.pause, if
         * Thread.interrupted() was set, sleep without it (e.g. clear, park, restore the flag after the poll) or
         * sleep in epoll_wait with a timeout (not affected by Java interrupts).
         */
        @Test
        void interruptedPollOnABusyHeadSleepsInsteadOfSpinning() {
            try (FakeRing fake = new FakeRing(4096)) {
                long sleeps = busyWaitsIn300ms(fake, true);
                assertTrue(sleeps < 1000, "poll spun: " + sleeps + " backoff passes in 300 ms");
            }
        }

        /**
         * FIXED: spin. BpfObject.close() on an interrupted thread while a global's segment is held by a native call
         * on another thread burns a CPU for as long as that call lasts (up to 10 s): Globals.closeWhenFree retries
         * arena.close() with LockSupport.parkNanos(100_000), which returns at once while the interrupt status is
         * set. (It also holds the object's monitor all that time.) Fix: clear the interrupt status for the wait and
         * restore it afterwards, or wait with Thread.sleep-free parking that ignores it, as for BusyBackoff.
         */
        @Test
        void interruptedObjectCloseSleepsWhileAGlobalIsInANativeCall() throws Exception {
            BpfObject obj = BpfObject.openResource("dev/panbpf/bpf/queue.bpf.o").load();
            try (Producer p = Producer.load(0)) {
                p.configure(1, 24, 0, 0);
                // next_value, popped_sum, popped_count: 24 bytes of .bss, enough for an XDP test packet.
                MemorySegment bss = obj.global("next_value").reinterpret(24);
                Thread runner = start("test run on a global", () -> p.object.program("produce").testRun(bss,
                        20_000_000));
                Thread.sleep(100);
                assertTrue(runner.isAlive(), "the test run ended too soon");
                long cpu0 = threadCpuNanos();
                long t0 = System.nanoTime();
                Thread.currentThread().interrupt();
                try {
                    obj.close();
                } finally {
                    Thread.interrupted();
                }
                long wall = System.nanoTime() - t0;
                long cpu = threadCpuNanos() - cpu0;
                runner.join(30_000);
                assertTrue(obj.isClosed());
                assertTrue(cpu < wall / 4 + 20_000_000L, "close() waited " + wall / 1_000_000 + " ms and burnt "
                        + cpu / 1_000_000 + " ms of CPU doing it");
            } finally {
                if (!obj.isClosed()) {
                    obj.close();
                }
            }
        }

        /**
         * FIXED: a call on a closed reader must throw BufferClosedException; RingBufferPoller.availableBytes with
         * an index out of range throws a bare ArrayIndexOutOfBoundsException instead, whether the poller is open
         * or closed (RingBufferPoller.availableBytes indexes readers[] before gate.query checks the state; so do
         * delivered(int)/discarded(int)). Fix: check the gate first and the index with a message naming rings().
         */
        @Test
        void pollerBadRingIndexIsRefusedWithTheLibrarysErrors() {
            try (Producer p = Producer.load(0)) {
                RingBufferPoller poller = RingBufferPoller.builder().add(p.ring(), r -> true).build();
                poller.close();
                assertThrows(BufferClosedException.class, () -> poller.availableBytes(0));
                Throwable e = assertThrows(RuntimeException.class, () -> poller.availableBytes(1));
                assertInstanceOf(BufferClosedException.class, e, "got " + e);
            }
        }

        /**
         * FIXED by narrowing the promise: these calls on a closed RingBuffer / UserRingBuffer / RingBufferPoller
         * return normally, and BufferClosedException's Javadoc now says so (they need no kernel memory; wakeup()
         * does nothing once closed). The review had flagged them against "any call on a closed reader throws".
         */
        @Test
        void countersSizeAndWakeupStayUsableOnAClosedReader() throws Exception {
            try (Producer p = Producer.load(0);
                 BpfObject o = BpfObject.open(BpfPrograms.bytes("user_ringbuf.bpf.o"), "user_ringbuf")) {
                o.setMaxEntries("user_rb", 4096).load();
                RingBuffer ring = RingBuffer.of(p.ring());
                ring.close();
                UserRingBuffer w = UserRingBuffer.of(o.map("user_rb"));
                w.close();
                RingBufferPoller poller = RingBufferPoller.builder().add(p.ring(), r -> true).build();
                poller.close();
                List<String> silent = new ArrayList<>();
                java.util.Map<String, Runnable> calls = new java.util.LinkedHashMap<>();
                calls.put("RingBuffer.wakeup", ring::wakeup);
                calls.put("RingBuffer.size", ring::size);
                calls.put("RingBuffer.delivered", ring::delivered);
                calls.put("UserRingBuffer.wakeup", w::wakeup);
                calls.put("UserRingBuffer.maxSampleSize", w::maxSampleSize);
                calls.put("RingBufferPoller.wakeup", poller::wakeup);
                calls.put("RingBufferPoller.delivered(0)", () -> poller.delivered(0));
                for (var e : calls.entrySet()) {
                    try {
                        e.getValue().run();
                        silent.add(e.getKey());
                    } catch (BufferClosedException expected) {
                        // as promised
                    }
                }
                // Resolved by narrowing the promise (BufferClosedException's Javadoc): what needs no kernel memory
                // stays usable after close; wakeup() is then a no-op.
                assertEquals(List.copyOf(calls.keySet()), silent, "calls documented to stay usable after close");
            }
        }

        /**
         * FIXED (race, probabilistic): BpfMap element operations read the fd number with fd() and then make the
         * syscall; a close() on another thread in between frees the number, and a map created meanwhile gets it,
         * so the update lands in the wrong map (Fd.get() checks, but nothing holds the fd across the call).
         * BpfMap.update/lookup/delete/push/pop via MapAttr.elem(cmd, fd(), ...). Fix: a use count on Fd (acquire
         * around the syscall, close waits or defers the close(2) until the last user leaves), like ConsumerGate.
         */
        @Test
        void mapUpdateRacingCloseNeverWritesIntoAMapThatReusedTheFd() throws Exception {
            long end = System.nanoTime() + 5_000_000_000L;
            int hits = 0;
            int rounds = 0;
            try (Arena a = Arena.ofShared()) {
                MemorySegment key = a.allocateFrom(ValueLayout.JAVA_INT, 7);
                MemorySegment value = a.allocateFrom(ValueLayout.JAVA_LONG, 42L);
                MemorySegment out = a.allocate(8);
                while (System.nanoTime() < end && hits == 0) {
                    rounds++;
                    BpfMap victim = BpfMap.create(MapType.HASH, 4, 8, 4, 0);
                    AtomicBoolean go = new AtomicBoolean();
                    Thread writer = start("writer", () -> {
                        while (!go.get()) {
                            Thread.onSpinWait();
                        }
                        try {
                            while (true) {
                                victim.update(key, value);
                            }
                        } catch (BpfException closed) {
                            // the map closed
                        }
                    });
                    go.set(true);
                    Thread.yield();
                    victim.close();
                    List<BpfMap> fresh = new ArrayList<>();
                    for (int i = 0; i < 4; i++) {
                        fresh.add(BpfMap.create(MapType.HASH, 4, 8, 4, 0));
                    }
                    writer.join();
                    for (BpfMap m : fresh) {
                        if (m.lookup(key, out)) {
                            hits++;
                        }
                        m.close();
                    }
                }
            }
            assertEquals(0, hits, "an update on a closed map landed in a new map that reused its fd ("
                    + rounds + " rounds)");
        }
    }
}
