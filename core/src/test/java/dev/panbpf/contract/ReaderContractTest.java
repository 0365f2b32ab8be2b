package dev.panbpf.contract;

import dev.panbpf.BpfException;
import dev.panbpf.BpfMap;
import dev.panbpf.BpfObject;
import dev.panbpf.BufferClosedException;
import dev.panbpf.EventReader;
import dev.panbpf.bpf.BpfPrograms;
import dev.panbpf.perf.OrderedPerfBuffer;
import dev.panbpf.perf.PerfBuffer;
import dev.panbpf.perf.PerfOptions;
import dev.panbpf.ringbuf.RingBuffer;
import dev.panbpf.ringbuf.RingBufferPoller;
import dev.panbpf.testing.BlockedCall;
import dev.panbpf.testing.Kernel;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.LongPredicate;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED;
import static org.junit.jupiter.api.Assertions.*;

/**
 * The one reader contract ({@link EventReader}), proven on every reader against the real kernel with the same
 * test: stopping early, the timeouts, the behaviour after close and a poll blocked at close, re-entrant calls,
 * interrupts, virtual threads and the batch delay.
 * Each reader kind adapts its own handler shape to "take this event's sequence number, say whether to go on".
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class ReaderContractTest {
    /** Reader kinds, each opened over the shared producer object's ring ("rb") or perf map ("pb"). */
    enum Kind {
        RING(1), POLLER(1), PERF(2), ORDERED(2);

        final int target;   // producer_config.target: bit 0 ring, bit 1 perf

        Kind(int target) {
            this.target = target;
        }
    }

    /** An open reader and the calls the contract needs, in one shape for all kinds. */
    private interface Rig {
        EventReader reader();

        int consume(LongPredicate handler);

        int poll(LongPredicate handler, Duration timeout);
    }

    private BpfObject object;
    private Rig rig;
    private LongPredicate pollerHandler;
    private final MemorySegment packet = Arena.ofAuto().allocate(64);

    @BeforeEach
    void root() {
        Kernel.requireRoot();
    }

    @AfterEach
    void close() {
        if (rig != null) {
            rig.reader().close();
        }
        if (object != null) {
            object.close();
        }
    }

    private static long seq(MemorySegment payload) {
        return payload.get(JAVA_LONG_UNALIGNED, 0);
    }

    private Rig open(Kind kind) {
        object = BpfObject.open(BpfPrograms.bytes("producer.bpf.o"), "producer").load();
        try (Arena a = Arena.ofConfined()) {
            MemorySegment cfg = a.allocate(24);
            cfg.set(JAVA_INT, 0, 1);        // one record per run
            cfg.set(JAVA_INT, 4, 32);       // payload bytes
            cfg.set(JAVA_INT, 16, kind.target);
            object.map("config").update(a.allocateFrom(JAVA_INT, 0), cfg);
        }
        BpfMap rb = object.map("rb");
        BpfMap pb = object.map("pb");
        PerfOptions onCpu0 = PerfOptions.defaults().cpus(List.of(0)).timestamps(true);
        rig = switch (kind) {
            case RING -> {
                RingBuffer r = RingBuffer.of(rb);
                yield new Rig() {
                    public EventReader reader() {
                        return r;
                    }

                    public int consume(LongPredicate h) {
                        return r.consume(rec -> h.test(seq(rec)));
                    }

                    public int poll(LongPredicate h, Duration t) {
                        return r.poll(rec -> h.test(seq(rec)), t);
                    }
                };
            }
            case POLLER -> {
                RingBufferPoller p = RingBufferPoller.builder().add(rb, rec -> pollerHandler.test(seq(rec))).build();
                yield new Rig() {
                    public EventReader reader() {
                        return p;
                    }

                    // The poller's handler is fixed when it is built: it calls whatever this call installed, and
                    // a nested (refused) call puts the outer call's handler back.
                    public int consume(LongPredicate h) {
                        LongPredicate outer = pollerHandler;
                        pollerHandler = h;
                        try {
                            return p.consume();
                        } finally {
                            pollerHandler = outer;
                        }
                    }

                    public int poll(LongPredicate h, Duration t) {
                        LongPredicate outer = pollerHandler;
                        pollerHandler = h;
                        try {
                            return p.poll(t);
                        } finally {
                            pollerHandler = outer;
                        }
                    }
                };
            }
            case PERF -> {
                PerfBuffer b = PerfBuffer.of(pb, onCpu0);
                yield new Rig() {
                    public EventReader reader() {
                        return b;
                    }

                    public int consume(LongPredicate h) {
                        return b.consume((cpu, p, ts) -> h.test(seq(p)));
                    }

                    public int poll(LongPredicate h, Duration t) {
                        return b.poll((cpu, p, ts) -> h.test(seq(p)), t);
                    }
                };
            }
            case ORDERED -> {
                OrderedPerfBuffer o = OrderedPerfBuffer.of(pb, onCpu0);
                yield new Rig() {
                    public EventReader reader() {
                        return o;
                    }

                    public int consume(LongPredicate h) {
                        return o.flush((cpu, p, ts, late) -> h.test(seq(p)));
                    }

                    public int poll(LongPredicate h, Duration t) {
                        return o.poll((cpu, p, ts, late) -> h.test(seq(p)), t);
                    }
                };
            }
        };
        return rig;
    }

    /** Makes the producer write {@code n} events on CPU 0, one program run each. */
    private void produce(int n) {
        object.program("produce").testRun(packet, n, 0);
    }

    @ParameterizedTest
    @EnumSource(Kind.class)
    void aHandlerReturningFalseEndsTheCallAfterThatEventAndTheRestComeNextInOrder(Kind kind) {
        Rig r = open(kind);
        produce(10);
        List<Long> got = new ArrayList<>();
        assertEquals(3, r.consume(s -> got.add(s) && got.size() < 3), "the third event's false ends the call");
        assertEquals(3, r.reader().delivered());
        assertEquals(7, r.consume(got::add), "the seven behind it stay for the next call");
        assertEquals(10, r.reader().delivered());
        for (int i = 1; i < got.size(); i++) {
            assertEquals(got.get(i - 1) + 1, got.get(i), "in order, none twice: " + got);
        }
        assertEquals(0, r.consume(got::add));
        assertEquals(0, r.reader().lost());
    }

    @ParameterizedTest
    @EnumSource(Kind.class)
    void aHandlerThatThrowsHasItsEventCountedAndTheNextCallGoesOn(Kind kind) {
        Rig r = open(kind);
        produce(4);
        IllegalStateException boom = new IllegalStateException("handler failed");
        assertSame(boom, assertThrows(IllegalStateException.class, () -> r.consume(s -> {
            throw boom;
        })));
        assertEquals(1, r.reader().delivered(), "the event it threw on counts as delivered");
        assertEquals(3, r.consume(s -> true), "reading goes on after it, nothing lost or repeated");
    }

    @ParameterizedTest
    @EnumSource(Kind.class)
    void timeoutsZeroNeverWaitsNegativeIsRefusedHugeWaitsUntilWokenUp(Kind kind) throws Exception {
        Rig r = open(kind);
        long t0 = System.nanoTime();
        assertEquals(0, r.poll(s -> true, Duration.ZERO));
        assertTrue(System.nanoTime() - t0 < TimeUnit.MILLISECONDS.toNanos(500), "ZERO does not wait");
        assertThrows(IllegalArgumentException.class, () -> r.poll(s -> true, Duration.ofMillis(-1)));
        BlockedCall<Integer> call = BlockedCall.start("huge poll", () -> r.poll(s -> true,
                Duration.ofSeconds(Long.MAX_VALUE)));
        assertFalse(call.result.isDone(), "a huge timeout waits");
        long t1 = System.nanoTime();
        r.reader().wakeup();
        assertEquals(0, call.get());
        assertTrue(call.millisSince(t1) < 1000, "wakeup releases it promptly");
    }

    @ParameterizedTest
    @EnumSource(Kind.class)
    void closeReleasesABlockedPollAndEveryLaterCallThrowsWhileCountersAnswer(Kind kind) throws Exception {
        Rig r = open(kind);
        produce(2);
        assertEquals(2, r.consume(s -> true));
        BlockedCall<Integer> call = BlockedCall.start("poll at close", () -> r.poll(s -> true,
                Duration.ofSeconds(60)));
        long t0 = System.nanoTime();
        r.reader().close();
        assertEquals(0, call.get(), "the blocked poll returns normally");
        assertTrue(call.millisSince(t0) < 1000, "and promptly");
        assertTrue(r.reader().isClosed());
        assertThrows(BufferClosedException.class, () -> r.consume(s -> true));
        assertThrows(BufferClosedException.class, () -> r.poll(s -> true, Duration.ZERO));
        assertEquals(2, r.reader().delivered());
        assertEquals(0, r.reader().lost());
        assertEquals(0, r.reader().droppedAtClose());
        r.reader().wakeup();
        r.reader().close();
    }

    /** Starts a huge poll on a platform or a virtual thread. */
    private BlockedCall<Integer> blockedPoll(Rig r, boolean virtual) throws InterruptedException {
        return virtual ? BlockedCall.startVirtual("vt poll", () -> r.poll(s -> true, Duration.ofSeconds(60)))
                : BlockedCall.start("poll", () -> r.poll(s -> true, Duration.ofSeconds(60)));
    }

    /** A poll on a virtual thread parks it (WAITING), rather than pinning its carrier in a native call (RUNNABLE). */
    private static void assertParked(BlockedCall<Integer> call) {
        Thread.State st = call.thread.getState();
        assertTrue(st == Thread.State.WAITING || st == Thread.State.TIMED_WAITING,
                "the virtual thread in poll is parked, not running native code: " + st);
    }

    @ParameterizedTest
    @EnumSource(Kind.class)
    void interruptEndsABlockedPollOnAPlatformAndAVirtualThreadKeepingTheStatus(Kind kind) throws Exception {
        Rig r = open(kind);
        for (boolean virtual : new boolean[] {false, true}) {
            java.util.concurrent.atomic.AtomicBoolean kept = new java.util.concurrent.atomic.AtomicBoolean();
            BlockedCall<Integer> call = (virtual ? BlockedCall.<Integer>startVirtual("vt poll", () -> {
                int n = r.poll(s -> true, Duration.ofSeconds(60));
                kept.set(Thread.currentThread().isInterrupted());
                return n;
            }) : BlockedCall.<Integer>start("poll", () -> {
                int n = r.poll(s -> true, Duration.ofSeconds(60));
                kept.set(Thread.currentThread().isInterrupted());
                return n;
            }));
            assertFalse(call.result.isDone(), "the poll waits");
            long t0 = System.nanoTime();
            call.thread.interrupt();
            assertEquals(0, call.get(), "the interrupted poll returns normally, virtual " + virtual);
            assertTrue(call.millisSince(t0) < 1000, "and promptly");
            assertTrue(kept.get(), "with the interrupt status still set, virtual " + virtual);
        }
    }

    @ParameterizedTest
    @EnumSource(Kind.class)
    void aPollEnteredInterruptedDeliversWhatIsThereAndDoesNotWait(Kind kind) {
        Rig r = open(kind);
        produce(3);
        Thread.currentThread().interrupt();
        try {
            long t0 = System.nanoTime();
            int first = r.poll(s -> true, Duration.ofSeconds(30));
            int second = r.poll(s -> true, Duration.ofSeconds(30));
            assertTrue(System.nanoTime() - t0 < TimeUnit.SECONDS.toNanos(5), "neither poll waited");
            assertEquals(3, first + second, "the records there are delivered");
            assertTrue(Thread.currentThread().isInterrupted(), "the status stays set");
        } finally {
            Thread.interrupted();
        }
    }

    @ParameterizedTest
    @EnumSource(Kind.class)
    void wakeupAndCloseReleaseAPollParkedOnAVirtualThread(Kind kind) throws Exception {
        Rig r = open(kind);
        BlockedCall<Integer> woken = blockedPoll(r, true);
        assertParked(woken);
        r.reader().wakeup();
        assertEquals(0, woken.get(), "wakeup releases the parked virtual thread");
        BlockedCall<Integer> fed = blockedPoll(r, true);
        assertParked(fed);
        produce(2);
        assertTrue(fed.get() > 0, "records wake a parked virtual thread");
        r.consume(s -> true);       // the wakeup may have come between the two records: take the second too
        BlockedCall<Integer> closed = blockedPoll(r, true);
        assertParked(closed);
        long t0 = System.nanoTime();
        r.reader().close();
        assertEquals(0, closed.get(), "close releases the parked virtual thread");
        assertTrue(closed.millisSince(t0) < 1000, "promptly");
    }

    /** Sleeps without an InterruptedException to handle (for writer threads). */
    private static void pause(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            throw new IllegalStateException(e);
        }
    }

    @ParameterizedTest
    @EnumSource(Kind.class)
    void aBatchDelayGathersTheEventsWrittenWhileItRunsIntoOnePoll(Kind kind) throws Exception {
        Rig r = open(kind);
        assertEquals(Duration.ZERO, r.reader().batchDelay(), "off by default");
        r.reader().batchDelay(Duration.ofMillis(800));
        assertEquals(Duration.ofMillis(800), r.reader().batchDelay());
        produce(1);
        assertEquals(1, r.poll(s -> true, Duration.ofSeconds(5)), "a first poll is not delayed");
        long t0 = System.nanoTime();
        Thread writer = Thread.ofPlatform().start(() -> {
            pause(100);
            produce(1);
            pause(150);
            produce(1);
        });
        int n = r.poll(s -> true, Duration.ofSeconds(10));
        long took = System.nanoTime() - t0;
        writer.join();
        assertEquals(2, n, "the two events, written 150 ms apart while the delay ran, come in one poll");
        assertTrue(took >= TimeUnit.MILLISECONDS.toNanos(700), "the poll let them gather first: " + took / 1e6 + " ms");
        assertTrue(took < TimeUnit.SECONDS.toNanos(5), "and then read them: " + took / 1e6 + " ms");
        assertEquals(3, r.reader().delivered());
        assertThrows(IllegalArgumentException.class, () -> r.reader().batchDelay(Duration.ofMillis(-1)));
        assertEquals(Duration.ofMillis(800), r.reader().batchDelay(), "a refused delay changes nothing");
    }

    @ParameterizedTest
    @EnumSource(Kind.class)
    void aBatchDelayNeverHoldsBackAnIdleReaderNorAPollThatMayNotWait(Kind kind) throws Exception {
        Rig r = open(kind);
        r.reader().batchDelay(Duration.ofSeconds(30));
        assertEquals(0, r.poll(s -> true, Duration.ofMillis(50)), "nothing there yet");
        Thread writer = Thread.ofPlatform().start(() -> {
            pause(100);
            produce(1);
        });
        long t0 = System.nanoTime();
        assertEquals(1, r.poll(s -> true, Duration.ofSeconds(20)), "the event after a quiet spell");
        assertTrue(System.nanoTime() - t0 < TimeUnit.SECONDS.toNanos(5), "is read when the kernel wakes the reader");
        writer.join();
        produce(2);
        long t1 = System.nanoTime();
        r.poll(s -> true, Duration.ZERO);
        assertTrue(System.nanoTime() - t1 < TimeUnit.SECONDS.toNanos(1), "Duration.ZERO never sleeps for the delay");
        long t2 = System.nanoTime();
        r.poll(s -> true, Duration.ofMillis(300));
        assertTrue(System.nanoTime() - t2 < TimeUnit.SECONDS.toNanos(5), "the poll's timeout cuts the delay short");
        r.consume(s -> true);
        assertEquals(3, r.reader().delivered(), "nothing lost on the way");
    }

    @ParameterizedTest
    @EnumSource(Kind.class)
    void aPollEnteredInterruptedDuringABatchDelayDeliversWhatIsThereWithoutSleeping(Kind kind) {
        Rig r = open(kind);
        r.reader().batchDelay(Duration.ofSeconds(30));
        produce(1);
        assertEquals(1, r.poll(s -> true, Duration.ofSeconds(5)));
        produce(2);
        Thread.currentThread().interrupt();
        try {
            long t0 = System.nanoTime();
            int n = r.poll(s -> true, Duration.ofSeconds(30));
            assertTrue(System.nanoTime() - t0 < TimeUnit.SECONDS.toNanos(5), "the delay was not slept out");
            if (kind != Kind.ORDERED) {
                assertEquals(2, n, "the poll delivers what is there");
            }
            assertEquals(2, n + r.consume(s -> true), "nothing lost (the ordered reader may hold them a while)");
            assertTrue(Thread.currentThread().isInterrupted(), "the status stays set");
        } finally {
            Thread.interrupted();
        }
    }

    @ParameterizedTest
    @EnumSource(Kind.class)
    void wakeupInterruptAndCloseEndABatchDelayAtOnce(Kind kind) throws Exception {
        Rig r = open(kind);
        r.reader().batchDelay(Duration.ofSeconds(60));
        produce(1);
        assertEquals(1, r.poll(s -> true, Duration.ofSeconds(5)));
        BlockedCall<Integer> woken = BlockedCall.start("delayed poll", () -> r.poll(s -> true, Duration.ofSeconds(60)));
        produce(1);
        Thread.sleep(300);
        assertFalse(woken.result.isDone(), "the delay holds the new event back");
        long t0 = System.nanoTime();
        r.reader().wakeup();
        int gathered = woken.get();
        assertTrue(woken.millisSince(t0) < 1000, "wakeup ends the delay at once");
        assertEquals(1, gathered + r.consume(s -> true), "the poll returns what gathered (the ordered reader "
                + "may hold it for the next call)");

        java.util.concurrent.atomic.AtomicBoolean kept = new java.util.concurrent.atomic.AtomicBoolean();
        BlockedCall<Integer> interrupted = BlockedCall.startVirtual("delayed vt poll", () -> {
            int n = r.poll(s -> true, Duration.ofSeconds(60));
            kept.set(Thread.currentThread().isInterrupted());
            return n;
        });
        assertParked(interrupted);
        long t1 = System.nanoTime();
        interrupted.thread.interrupt();
        assertEquals(0, interrupted.get(), "an interrupt ends the delay");
        assertTrue(interrupted.millisSince(t1) < 1000, "at once");
        assertTrue(kept.get(), "keeping the status");

        BlockedCall<Integer> closed = BlockedCall.start("delayed poll at close", () -> r.poll(s -> true,
                Duration.ofSeconds(60)));
        long t2 = System.nanoTime();
        r.reader().close();
        assertEquals(0, closed.get(), "close ends the delay");
        assertTrue(closed.millisSince(t2) < 1000, "at once");
    }

    @ParameterizedTest
    @EnumSource(Kind.class)
    void aPollAfterOneThatAWakeupEndedIsNotHeldBackByTheOldDelay(Kind kind) throws Exception {
        Rig r = open(kind);
        r.reader().batchDelay(Duration.ofSeconds(4));
        produce(1);
        assertEquals(1, r.poll(s -> true, Duration.ofSeconds(5)));
        r.reader().wakeup();
        assertEquals(0, r.poll(s -> true, Duration.ofSeconds(10)), "the wakeup ends the delayed poll with nothing");
        produce(1);
        long t0 = System.nanoTime();
        assertEquals(1, r.poll(s -> true, Duration.ofSeconds(10)));
        long took = System.nanoTime() - t0;
        assertTrue(took < TimeUnit.SECONDS.toNanos(2), "a poll after one that delivered nothing does not sleep for "
                + "the delay, but took " + took / 1e6 + " ms");
    }

    @ParameterizedTest
    @EnumSource(Kind.class)
    void aHugeBatchDelayReadsBackAsSetAndTheTimeoutStillBoundsThePoll(Kind kind) throws Exception {
        Rig r = open(kind);
        Duration huge = Duration.ofDays(365 * 200);
        r.reader().batchDelay(huge);
        assertEquals(huge, r.reader().batchDelay(), "the getter returns the delay set");
        produce(1);
        assertEquals(1, r.poll(s -> true, Duration.ofSeconds(5)));
        produce(1);
        long t0 = System.nanoTime();
        assertEquals(1, r.poll(s -> true, Duration.ofMillis(300)), "the timeout cuts the delay, then it reads");
        assertTrue(System.nanoTime() - t0 < TimeUnit.SECONDS.toNanos(3));
        r.reader().batchDelay(Duration.ofNanos(1));
        produce(1);
        assertEquals(1, r.poll(s -> true, Duration.ofSeconds(5)), "1 ns");
    }

    @ParameterizedTest
    @EnumSource(Kind.class)
    void aCallFromInsideAHandlerIsRefusedNamingTheReader(Kind kind) {
        Rig r = open(kind);
        produce(2);
        List<RuntimeException> refused = new ArrayList<>();
        assertEquals(2, r.consume(s -> {
            refused.add(assertThrows(BpfException.class, () -> r.consume(x -> true)));
            return true;
        }));
        assertEquals(2, refused.size());
        assertTrue(refused.get(0).getMessage().contains("re-entrant"), refused.get(0).getMessage());
    }
}
