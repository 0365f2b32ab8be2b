package dev.panbpf.testing;

import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/** BlockedCall runs a blocking call (a poll, a reserve) on its own thread and records when it returned. */
public final class BlockedCall<T> {
    public final CompletableFuture<T> result = new CompletableFuture<>();
    private volatile long returnedAt;
    /** The thread running the call. */
    public volatile Thread thread;

    /** Starts {@code call} on a thread named {@code name} and gives it 150 ms to reach epoll_wait. */
    public static <T> BlockedCall<T> start(String name, Callable<T> call) throws InterruptedException {
        return start(name, call, 150);
    }

    /** Starts {@code call} on a thread named {@code name} and gives it {@code settleMillis} to block. */
    public static <T> BlockedCall<T> start(String name, Callable<T> call, long settleMillis) throws InterruptedException {
        return start(Thread.ofPlatform().daemon().name(name), call, settleMillis);
    }

    /** Starts {@code call} on a new virtual thread named {@code name} and gives it 150 ms to block. */
    public static <T> BlockedCall<T> startVirtual(String name, Callable<T> call) throws InterruptedException {
        return start(Thread.ofVirtual().name(name), call, 150);
    }

    private static <T> BlockedCall<T> start(Thread.Builder builder, Callable<T> call, long settleMillis)
            throws InterruptedException {
        BlockedCall<T> b = new BlockedCall<>();
        CountDownLatch started = new CountDownLatch(1);
        Thread t = builder.unstarted(() -> {
            started.countDown();
            try {
                T value = call.call();
                b.returnedAt = System.nanoTime();
                b.result.complete(value);
            } catch (Throwable e) {
                b.returnedAt = System.nanoTime();
                b.result.completeExceptionally(e);
            }
        });
        b.thread = t;
        t.start();
        started.await();
        Thread.sleep(settleMillis);
        return b;
    }

    /** The call's result, waiting at most 5 s for it. */
    public T get() throws Exception {
        return result.get(5, TimeUnit.SECONDS);
    }

    /** Milliseconds from {@code t0} (a nanoTime) until the call returned. */
    public double millisSince(long t0) {
        return (returnedAt - t0) / 1e6;
    }
}
