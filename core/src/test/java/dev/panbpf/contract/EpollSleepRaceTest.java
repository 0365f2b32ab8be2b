package dev.panbpf.contract;

import dev.panbpf.internal.Epoll;
import org.junit.jupiter.api.Test;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertTrue;

/** Races on Epoll.sleep, the sleep of the batch delay and of BusyBackoff: a wakeup or an interrupt is never lost. */
class EpollSleepRaceTest {

    /** A wakeup racing the start of a 60 s sleep (just before, at, just after) always ends it, on both kinds. */
    @Test
    void aWakeupRacingTheStartOfASleepNeverLeavesItAsleep() throws Exception {
        for (boolean virtual : new boolean[]{false, true}) {
            try (Epoll epoll = new Epoll(1)) {
                for (int i = 0; i < 3000; i++) {
                    CompletableFuture<Boolean> r = new CompletableFuture<>();
                    Runnable sleeper = () -> r.complete(epoll.sleep(TimeUnit.SECONDS.toNanos(60)));
                    Thread t = virtual ? Thread.ofVirtual().start(sleeper) : Thread.ofPlatform().start(sleeper);
                    int spin = ThreadLocalRandom.current().nextInt(2000);
                    for (int s = 0; s < spin; s++) {
                        Thread.onSpinWait();
                    }
                    epoll.wakeup();
                    Boolean woken = r.get(5, TimeUnit.SECONDS);     // throws TimeoutException on a lost wakeup
                    assertTrue(woken, "iteration " + i);
                    t.join();
                    epoll.await(0);     // drop a wakeup the sleep left in the eventfd, if any
                }
            }
        }
    }

    /** An interrupt racing the start of a sleep always ends it, on both kinds. */
    @Test
    void anInterruptRacingTheStartOfASleepNeverLeavesItAsleep() throws Exception {
        for (boolean virtual : new boolean[]{false, true}) {
            try (Epoll epoll = new Epoll(1)) {
                for (int i = 0; i < 3000; i++) {
                    CompletableFuture<Boolean> r = new CompletableFuture<>();
                    Runnable sleeper = () -> {
                        r.complete(epoll.sleep(TimeUnit.SECONDS.toNanos(60)) && Thread.currentThread().isInterrupted());
                    };
                    Thread t = virtual ? Thread.ofVirtual().start(sleeper) : Thread.ofPlatform().start(sleeper);
                    int spin = ThreadLocalRandom.current().nextInt(2000);
                    for (int s = 0; s < spin; s++) {
                        Thread.onSpinWait();
                    }
                    t.interrupt();
                    assertTrue(r.get(5, TimeUnit.SECONDS), "iteration " + i);
                    t.join();
                }
            }
        }
    }

    /** A huge sleep (200 years, past Long overflow of nanoTime + nanos) still ends on wakeup, and 1 ns returns. */
    @Test
    void hugeAndTinySleeps() throws Exception {
        try (Epoll epoll = new Epoll(1)) {
            assertTrue(!epoll.sleep(1), "1 ns times out");
            CompletableFuture<Boolean> r = new CompletableFuture<>();
            Thread t = Thread.ofPlatform().start(() -> r.complete(epoll.sleep(Long.MAX_VALUE)));
            Thread.sleep(200);
            assertTrue(!r.isDone(), "Long.MAX_VALUE does not overflow into an instant timeout");
            epoll.wakeup();
            assertTrue(r.get(5, TimeUnit.SECONDS));
            t.join();
        }
    }
}
