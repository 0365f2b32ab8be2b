package dev.panbpf.perf;

import dev.panbpf.BufferClosedException;
import dev.panbpf.Cpus;
import dev.panbpf.testing.BlockedCall;
import dev.panbpf.testing.Kernel;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.*;

/**
 * OrderedPerfBuffer's contract at its edges, against the real kernel: timeouts and windows without limit, a
 * handler that closes the reader, calls after close and what a close drops.
 */
class OrderedPerfBufferContractTest {
    private static final Duration NO_LIMIT = Duration.ofSeconds(Long.MAX_VALUE);
    private static final int SIZE = 48;

    private PerfProducer producer;
    private final List<Long> times = new ArrayList<>();
    private final OrderedPerfBuffer.Handler collect = (cpu, p, ts, late) -> times.add(ts);

    @BeforeAll
    static void root() {
        Kernel.requireRoot();
    }

    @BeforeEach
    void load() {
        producer = new PerfProducer();
    }

    @AfterEach
    void unload() {
        producer.close();
    }

    @Test
    void aPollWithoutTimeLimitAndAWindowWithoutEndAreAccepted() throws Exception {
        int cpu = Cpus.online().getFirst();
        producer.configure(3, SIZE);
        try (OrderedPerfBuffer ob = OrderedPerfBuffer.of(producer.pb(), PerfProducer.on(List.of(cpu)), NO_LIMIT)) {
            BlockedCall<Integer> call = BlockedCall.start("poller", () -> ob.poll(collect, NO_LIMIT));
            assertFalse(call.result.isDone(), "waiting");
            producer.run(cpu, 1);
            assertEquals(3, call.get(), "one CPU: its own stamps release its events at once");
            BlockedCall<Integer> woken = BlockedCall.start("poller", () -> ob.poll(collect, NO_LIMIT));
            ob.wakeup();
            assertEquals(0, woken.get());
        }
    }

    @Test
    void aWindowWithoutEndHoldsEventsUntilTheOtherCpuOrAFlushReleasesThem() {
        List<Integer> cpus = PerfProducer.twoCpus();
        producer.configure(2, SIZE);
        try (OrderedPerfBuffer ob = OrderedPerfBuffer.of(producer.pb(), PerfProducer.on(cpus), NO_LIMIT)) {
            producer.run(cpus.get(0), 1);
            assertEquals(0, ob.poll(collect, Duration.ofMillis(100)), "the other CPU has shown nothing yet");
            assertEquals(2, ob.held());
            assertEquals(2, ob.flush(collect));
        }
    }

    @Test
    void aHandlerThatClosesTheOrderedReaderGetsNoFurtherEvent() {
        List<Integer> cpus = PerfProducer.twoCpus();
        producer.configure(3, SIZE);
        long[] perf = PerfLeaks.now();
        OrderedPerfBuffer ob = OrderedPerfBuffer.of(producer.pb(), PerfProducer.on(cpus), Duration.ofHours(1));
        producer.run(cpus.get(0), 1);
        producer.run(cpus.get(1), 1);
        AtomicInteger calls = new AtomicInteger();
        assertEquals(1, ob.flush((cpu, p, ts, late) -> {
            calls.incrementAndGet();
            ob.close();
            return true;
        }));
        assertEquals(1, calls.get(), "nothing after the close");
        assertEquals(5, ob.droppedAtClose(), "the other five are counted");
        assertEquals(1, ob.delivered());
        PerfLeaks.assertBackTo(perf);
    }

    /** A handler that collects and returns false on its {@code n}th call. */
    private OrderedPerfBuffer.Handler stopAt(int n) {
        AtomicInteger calls = new AtomicInteger();
        return (cpu, p, ts, late) -> collect.onRecord(cpu, p, ts, late) && calls.incrementAndGet() < n;
    }

    @Test
    void aHandlerReturningFalseEndsTheCallAndTheEventsBehindItComeNextInOrder() {
        List<Integer> cpus = PerfProducer.twoCpus();
        producer.configure(3, SIZE);
        try (OrderedPerfBuffer ob = OrderedPerfBuffer.of(producer.pb(), PerfProducer.on(cpus), Duration.ofHours(1))) {
            producer.run(cpus.get(0), 1);
            producer.run(cpus.get(1), 1);   // three events after the first CPU's three
            assertEquals(2, ob.poll(stopAt(2), Duration.ZERO), "the call returns after the event that said stop");
            assertEquals(2, ob.delivered());
            assertEquals(0, ob.held(), "what was read and not released went back to the rings");
            assertEquals(1, ob.poll(collect, Duration.ZERO), "the first CPU's last; the rest wait for it");
            assertEquals(3, ob.held());
            assertEquals(1, ob.flush(stopAt(1)));
            assertEquals(2, ob.held(), "a held event not released stays held");
            assertEquals(2, ob.flush(collect));
            assertEquals(6, ob.delivered());
            assertEquals(6, times.size());
            assertEquals(6, times.stream().distinct().count(), "each once");
            for (int i = 1; i < times.size(); i++) {
                assertTrue(times.get(i) >= times.get(i - 1), "in timestamp order: " + times);
            }
            assertEquals(0, ob.late());
        }
    }

    @Test
    void closeCountsSamplesUnreadInTheRingsAsWellAsHeldEvents() {
        List<Integer> cpus = PerfProducer.twoCpus();
        producer.configure(3, SIZE);
        OrderedPerfBuffer ob = OrderedPerfBuffer.of(producer.pb(), PerfProducer.on(cpus), Duration.ofHours(1));
        producer.run(cpus.get(0), 1);
        assertEquals(0, ob.poll(collect, Duration.ZERO));
        assertEquals(3, ob.held());
        producer.run(cpus.get(0), 1);   // still in the ring at close
        ob.close();
        assertEquals(6, ob.droppedAtClose(), "3 held + 3 unread");
        assertEquals(0, ob.lost(), "counters stay readable after close");
        assertEquals(0, ob.delivered());
    }

    @Test
    void pollAndFlushOnAClosedReaderThrowBufferClosedException() {
        OrderedPerfBuffer ob = OrderedPerfBuffer.of(producer.pb(), PerfOptions.defaults());
        ob.close();
        BufferClosedException e = assertThrows(BufferClosedException.class, () -> ob.poll(collect, NO_LIMIT));
        assertTrue(e.getMessage().startsWith("ordered perf buffer on"), e.getMessage());
        assertThrows(BufferClosedException.class, () -> ob.poll(collect, Duration.ZERO));
        assertThrows(BufferClosedException.class, () -> ob.flush(collect));
        ob.wakeup();   // harmless
        assertEquals(0, ob.held());
    }
}
