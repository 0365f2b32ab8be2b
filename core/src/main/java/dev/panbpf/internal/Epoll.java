package dev.panbpf.internal;

import dev.panbpf.BpfException;
import dev.panbpf.bindings.epoll_event;
import dev.panbpf.bindings.sys_epoll_h;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.concurrent.locks.LockSupport;

/**
 * Epoll is one epoll instance plus an eventfd registered on it, so that {@link #wakeup()} from any thread
 * releases a {@link #await} in progress. Sources are registered with a caller-chosen tag (their index).
 *
 * <p>How a wait blocks depends on the thread. A platform thread calls epoll_wait, in slices of at most
 * {@value #SLICE_MILLIS} ms so that it notices {@link Thread#interrupt()} (the JDK cannot interrupt a native
 * call); nothing is allocated or locked for that. A virtual thread must not block in native code, which would
 * pin its carrier: it parks until the shared {@link VirtualPoller} reports this epoll ready, then collects with a
 * zero-timeout epoll_wait. Either way an interrupted thread does not wait: its interrupt status stays set and
 * {@link #awaitWokenUp} reports the wait ended, so a reader returns what it has.
 */
public final class Epoll implements AutoCloseable {
    /** The tag that {@link #await} reports for the wakeup eventfd. */
    public static final long WAKEUP_TAG = -1L;
    /** The longest single epoll_wait of a platform thread: how late an interrupt may be noticed. */
    static final int SLICE_MILLIS = 50;

    private final Fd epfd;
    private final Fd wake;
    private final Arena arena = Arena.ofShared();
    private final MemorySegment events;
    private final MemorySegment one = Arena.ofAuto().allocate(8);
    private final int capacity;
    // wakeup() and close() hold it around the eventfd, so a wakeup never writes to a number close() just freed.
    private final Object wakeLock = new Object();
    /** Set by wakeup() before it writes the eventfd: lets a consumer that sleeps without epoll see the request. */
    private volatile boolean wakeRequested;
    /** The virtual thread's wait registered with the VirtualPoller now, if any (under wakeLock). */
    private VirtualPoller.Waiter parked;
    /** The thread in {@link #sleep} now, if any: wakeup() and close() unpark it. */
    private volatile Thread sleeper;
    /** Whether the last await was a virtual thread's wait that the VirtualPoller ended (consumer thread only). */
    private boolean polledThroughMaster;

    /** An epoll able to report {@code capacity} ready sources per wait. */
    public Epoll(int capacity) {
        this.capacity = capacity + 1;
        this.epfd = new Fd(Sys.epollCreate(), "epoll");
        Fd eventfd = null;
        try {
            eventfd = new Fd(Sys.eventfd(), "wakeup eventfd");
            this.wake = eventfd;
            this.events = epoll_event.allocateArray(this.capacity, arena);
            add(wake.get(), sys_epoll_h.EPOLLIN(), WAKEUP_TAG);
        } catch (RuntimeException e) {
            if (eventfd != null) {
                eventfd.close();
            }
            epfd.close();
            arena.close();
            throw e;
        }
    }

    /** Watches {@code fd} for {@code events} (EPOLLIN, EPOLLOUT); {@code tag} comes back from {@link #tag}. */
    public void add(int fd, int eventMask, long tag) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment ev = epoll_event.allocate(a);
            epoll_event.events(ev, eventMask);
            epoll_event.data.u64(epoll_event.data(ev), tag);
            MemorySegment st = Errno.state();
            if (sys_epoll_h.epoll_ctl(st, epfd.get(), sys_epoll_h.EPOLL_CTL_ADD(), fd, ev) < 0) {
                throw new BpfException("epoll_ctl(ADD fd " + fd + ")", Errno.of(st), null);
            }
        }
    }

    /**
     * Waits up to {@code timeoutMillis} (-1: forever) and returns the number of ready entries, each read with
     * {@link #tag(int)}. Returns 0 on timeout and on EINTR. A wakeup shows up as an entry with WAKEUP_TAG, and the
     * eventfd is drained here so the next wait blocks again. An interrupted thread (see the class comment) only
     * collects what is ready, without waiting, and keeps its interrupt status.
     */
    public int await(int timeoutMillis) {
        Thread self = Thread.currentThread();
        int n;
        polledThroughMaster = false;
        if (timeoutMillis == 0 || self.isInterrupted()) {
            n = waitOnce(0);
        } else if (self.isVirtual()) {
            polledThroughMaster = parkUntilReady(self, timeoutMillis);
            n = waitOnce(0);
        } else {
            n = waitInSlices(self, timeoutMillis);
        }
        for (int i = 0; i < n; i++) {
            if (tag(i) == WAKEUP_TAG) {
                wakeRequested = false;
                Sys.read(wake.get(), one);
            }
        }
        return n;
    }

    /** One epoll_wait; 0 on EINTR. */
    private int waitOnce(int timeoutMillis) {
        MemorySegment st = Errno.state();
        int n = sys_epoll_h.epoll_wait(st, epfd.get(), events, capacity, timeoutMillis);
        if (n < 0) {
            int e = Errno.of(st);
            if (e == dev.panbpf.bindings.errno_h.EINTR()) {
                return 0;
            }
            throw new BpfException("epoll_wait", e, null);
        }
        return n;
    }

    /** A platform thread's wait: slices of at most SLICE_MILLIS, each followed by a look at the interrupt status. */
    private int waitInSlices(Thread self, int timeoutMillis) {
        if (timeoutMillis > 0 && timeoutMillis <= SLICE_MILLIS) {
            return waitOnce(timeoutMillis);
        }
        long end = System.nanoTime() + timeoutMillis * 1_000_000L;
        while (true) {
            int slice = SLICE_MILLIS;
            if (timeoutMillis > 0) {
                long left = end - System.nanoTime();
                if (left <= 0) {
                    return 0;
                }
                slice = (int) Math.min(SLICE_MILLIS, (left + 999_999) / 1_000_000);
            }
            int n = waitOnce(slice);
            if (n != 0 || self.isInterrupted()) {
                return n;
            }
        }
    }

    /**
     * A virtual thread's wait: parks until the VirtualPoller sees this epoll ready, the time is up, the thread is
     * interrupted or this epoll closes. The registration is made and removed under wakeLock, the lock close()
     * takes to close the fds, so an fd is never registered after it was closed, and every exit removes it.
     */
    private boolean parkUntilReady(Thread self, int timeoutMillis) {
        VirtualPoller poller = VirtualPoller.get();
        VirtualPoller.Waiter waiter = new VirtualPoller.Waiter();
        long id;
        synchronized (wakeLock) {
            if (epfd.isClosed()) {
                return false;
            }
            id = poller.add(epfd.get(), waiter);
            parked = waiter;
        }
        try {
            long end = System.nanoTime() + timeoutMillis * 1_000_000L;
            while (!waiter.ready && !self.isInterrupted()) {
                if (timeoutMillis < 0) {
                    LockSupport.park(this);
                } else {
                    long left = end - System.nanoTime();
                    if (left <= 0) {
                        break;
                    }
                    LockSupport.parkNanos(this, left);
                }
            }
            return waiter.ready;
        } finally {
            synchronized (wakeLock) {
                parked = null;
                poller.remove(epfd.isClosed() ? -1 : epfd.get(), id);
            }
        }
    }

    /**
     * Waits until {@code deadlineNanos} (from {@link Deadline#after}) for
     * any source; true when it was {@link #wakeup()}, a close or an interrupt of this thread (whose status stays
     * set) that ended the wait: the caller returns rather than wait again.
     */
    public boolean awaitWokenUp(long deadlineNanos) {
        int ready = await(Deadline.millisLeft(deadlineNanos));
        for (int i = 0; i < ready; i++) {
            if (tag(i) == WAKEUP_TAG) {
                return true;
            }
        }
        return Thread.currentThread().isInterrupted();
    }

    /**
     * Whether the last {@link #await} may not have reported every source that signalled: true after a virtual
     * thread's wait that the VirtualPoller ended. A source whose readiness is consumed by a poll of it (a perf
     * event: perf_poll clears its pending flag) may have been polled by the kernel on the master epoll's behalf,
     * when the poller looked at (or registered) this epoll, and then does not show up in our own wait. Level
     * sources (ring buffers, the eventfd) are not affected; a perf reader reads all its rings after such a wait.
     */
    public boolean mayHaveMissedSources() {
        return polledThroughMaster;
    }

    /** The tag of ready entry {@code i} of the last {@link #await}. */
    public long tag(int i) {
        MemorySegment ev = events.asSlice(i * epoll_event.sizeof(), epoll_event.sizeof());
        return epoll_event.data.u64(epoll_event.data(ev));
    }

    /** The event mask of ready entry {@code i} of the last {@link #await}. */
    public int readyEvents(int i) {
        return events.get(epoll_event.events$layout(), i * epoll_event.sizeof());
    }

    /**
     * Takes a pending {@link #wakeup()} without waiting: true if one was requested since the last wait saw one (the
     * eventfd is drained, so the next wait does not end at once for it). For a consumer sleeping outside epoll.
     */
    public boolean takeWakeup() {
        if (!wakeRequested) {
            return false;
        }
        wakeRequested = false;
        Sys.read(wake.get(), one);      // non-blocking eventfd: EAGAIN if a wait already drained it is fine
        return true;
    }

    /**
     * Sleeps up to {@code nanos} without watching the sources (a reader that chose to let records gather, or one
     * waiting for a BUSY record to commit): {@link #wakeup()}, {@link #close()} and an interrupt end it early. Returns
     * true when one of those did (a wakeup is taken, and an interrupt status stays set), false when the time was up.
     * {@link LockSupport#parkNanos} parks a virtual thread without pinning its carrier.
     */
    public boolean sleep(long nanos) {
        Thread self = Thread.currentThread();
        long end = System.nanoTime() + nanos;
        sleeper = self;     // before looking at the flags: a wakeup() that misses it has set them for us to see
        try {
            while (!wakeRequested && !wake.isClosed() && !self.isInterrupted()) {
                long left = end - System.nanoTime();
                if (left <= 0) {
                    return false;
                }
                LockSupport.parkNanos(this, left);
            }
        } finally {
            sleeper = null;
        }
        return wake.isClosed() || takeWakeup() || self.isInterrupted();
    }

    /** Releases a thread blocked in {@link #await} or {@link #sleep}; safe from any thread, and a no-op once closed. */
    public void wakeup() {
        synchronized (wakeLock) {
            if (wake.isClosed()) {
                return;
            }
            wakeRequested = true;
            try (Arena a = Arena.ofConfined()) {
                MemorySegment v = a.allocate(ValueLayout.JAVA_LONG);
                v.set(ValueLayout.JAVA_LONG, 0, 1L);
                Sys.write(wake.get(), v);
            }
        }
        unparkSleeper();
    }

    private void unparkSleeper() {
        Thread t = sleeper;
        if (t != null) {
            LockSupport.unpark(t);
        }
    }

    @Override
    public void close() {
        synchronized (wakeLock) {
            wake.close();
            epfd.close();
            if (parked != null) {
                parked.fire();          // its fd left the poller's epoll with the close: wake it ourselves
            }
        }
        unparkSleeper();                // after wake.close(), which the sleep loop looks at
        arena.close();
    }
}
