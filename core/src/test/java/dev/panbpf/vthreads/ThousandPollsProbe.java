package dev.panbpf.vthreads;

import dev.panbpf.ringbuf.RingBuffer;
import dev.panbpf.testing.Producer;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * ThousandPollsProbe runs in a child JVM started with one carrier thread for virtual threads: it parks 1,000
 * virtual threads in poll, each on its own ring, checks that another virtual thread still runs, then feeds every
 * ring and checks that each thread got exactly its ring's records. Prints "OK" or the first failure; exit 0 on OK.
 */
public final class ThousandPollsProbe {
    static final int RINGS = 1000;
    static final int PER_RING = 2;

    public static void main(String[] args) throws Exception {
        try {
            run();
            System.out.println("OK");
            System.exit(0);
        } catch (Throwable t) {
            System.out.println("FAIL " + t);
            t.printStackTrace(System.out);
            System.exit(1);
        }
    }

    private static void check(boolean ok, String what) {
        if (!ok) {
            throw new AssertionError(what);
        }
    }

    private static void run() throws Exception {
        check(carriers() == 1, "the virtual thread scheduler has one carrier, saw " + carriers());
        List<Producer> producers = new ArrayList<>();
        List<RingBuffer> rings = new ArrayList<>();
        List<Thread> threads = new ArrayList<>();
        long[][] got = new long[RINGS][PER_RING];
        int[] counts = new int[RINGS];
        try {
            for (int i = 0; i < RINGS; i++) {
                // sizes differ by ring, so a record read from the wrong ring would fail Producer.check
                Producer p = Producer.load(4096).configure(1, 24 + 8 * (i % 16), 0, 0);
                producers.add(p);
                rings.add(RingBuffer.of(p.ring()));
            }
            for (int i = 0; i < RINGS; i++) {
                int ring = i;
                threads.add(Thread.ofVirtual().name("poll-" + i).start(() -> {
                    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
                    while (counts[ring] < PER_RING && System.nanoTime() < end) {
                        rings.get(ring).poll(rec -> {
                            got[ring][counts[ring]++] = producers.get(ring).check(rec);
                            return true;
                        }, Duration.ofSeconds(60));
                    }
                }));
            }
            long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (parked(threads) < RINGS && System.nanoTime() < end) {
                Thread.sleep(20);
            }
            check(parked(threads) == RINGS, "all " + RINGS + " pollers park, " + parked(threads) + " did");
            CompletableFuture<Boolean> other = new CompletableFuture<>();
            Thread.ofVirtual().start(() -> other.complete(true));
            check(other.get(10, TimeUnit.SECONDS), "another virtual thread runs while 1,000 are parked in poll");
            for (Producer p : producers) {
                p.run(PER_RING);
            }
            for (Thread t : threads) {
                check(t.join(Duration.ofSeconds(30)), t.getName() + " was woken by its records");
            }
            for (int i = 0; i < RINGS; i++) {
                check(counts[i] == PER_RING, "ring " + i + " delivered " + counts[i]);
                check(got[i][1] == got[i][0] + 1,
                        "ring " + i + " delivered its own records in order: " + got[i][0] + ", " + got[i][1]);
            }
            System.out.println("parked and woken: " + RINGS);
        } finally {
            rings.forEach(RingBuffer::close);
            producers.forEach(Producer::close);
        }
    }

    private static int parked(List<Thread> threads) {
        int n = 0;
        for (Thread t : threads) {
            Thread.State s = t.getState();
            n += s == Thread.State.WAITING || s == Thread.State.TIMED_WAITING ? 1 : 0;
        }
        return n;
    }

    /** The carrier threads seen by many short virtual threads (a virtual thread's name shows its carrier). */
    private static int carriers() throws InterruptedException {
        Set<String> seen = java.util.concurrent.ConcurrentHashMap.newKeySet();
        List<Thread> ts = new ArrayList<>();
        for (int i = 0; i < 200; i++) {
            ts.add(Thread.ofVirtual().start(() -> {
                String s = Thread.currentThread().toString();
                seen.add(s.substring(s.indexOf('@') + 1));
                Thread.yield();
            }));
        }
        for (Thread t : ts) {
            t.join();
        }
        check("1".equals(System.getProperty("jdk.virtualThreadScheduler.parallelism")), "parallelism property is 1");
        return seen.size();
    }
}
