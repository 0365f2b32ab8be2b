package dev.panbpf.samples;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * StopSignal lets a sample finish cleanly on Ctrl-C. The JVM runs shutdown hooks on SIGINT; this one raises the
 * signal, runs the registered wake-ups (so a blocked poll returns), and waits a little for the sample to close
 * what it opened (links, maps, namespaces) before the JVM goes away.
 */
public final class StopSignal implements AutoCloseable {
    private static final Duration GRACE = Duration.ofSeconds(5);

    private final CountDownLatch raised = new CountDownLatch(1);
    private final CountDownLatch finished = new CountDownLatch(1);
    private final List<Runnable> wakeups = new CopyOnWriteArrayList<>();
    private final Thread hook;

    private StopSignal(boolean onShutdown) {
        hook = onShutdown ? new Thread(this::shutdown, "panbpf-stop") : null;
        if (hook != null) {
            Runtime.getRuntime().addShutdownHook(hook);
        }
    }

    /** StopSignal.onShutdown makes a signal raised by Ctrl-C (the JVM's shutdown). */
    public static StopSignal onShutdown() {
        return new StopSignal(true);
    }

    /** StopSignal.manual makes a signal only {@link #raise()} raises, for tests. */
    public static StopSignal manual() {
        return new StopSignal(false);
    }

    /** Raises the signal and runs the wake-ups. */
    public void raise() {
        if (raised.getCount() > 0) {
            raised.countDown();
            wakeups.forEach(Runnable::run);
        }
    }

    /** Whether the signal was raised. */
    public boolean raised() {
        return raised.getCount() == 0;
    }

    /** Registers an action that releases a blocked wait (e.g. a buffer's wakeup) when the signal is raised. */
    public void onRaise(Runnable wakeup) {
        wakeups.add(wakeup);
        if (raised()) {
            wakeup.run();
        }
    }

    /** Sleeps for {@code d} or until the signal is raised; returns true when raised. */
    public boolean await(Duration d) throws InterruptedException {
        return raised.await(d.toNanos(), TimeUnit.NANOSECONDS);
    }

    private void shutdown() {
        raise();
        try {
            finished.await(GRACE.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Marks the sample finished: a pending shutdown proceeds, and the hook is removed on a normal exit. */
    @Override
    public void close() {
        finished.countDown();
        if (hook != null) {
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException shuttingDown) {
                // The hook is running; it was waiting for exactly this.
            }
        }
    }
}
