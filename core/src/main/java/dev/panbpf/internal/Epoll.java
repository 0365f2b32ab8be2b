package dev.panbpf.internal;

import dev.panbpf.BpfException;
import dev.panbpf.bindings.epoll_event;
import dev.panbpf.bindings.sys_epoll_h;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Epoll is one epoll instance plus an eventfd registered on it, so that {@link #wakeup()} from any thread
 * releases a {@link #await} in progress. Sources are registered with a caller-chosen tag (their index).
 */
public final class Epoll implements AutoCloseable {
    /** The tag that {@link #await} reports for the wakeup eventfd. */
    public static final long WAKEUP_TAG = -1L;

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
     * eventfd is drained here so the next wait blocks again.
     */
    public int await(int timeoutMillis) {
        MemorySegment st = Errno.state();
        int n = sys_epoll_h.epoll_wait(st, epfd.get(), events, capacity, timeoutMillis);
        if (n < 0) {
            int e = Errno.of(st);
            if (e == dev.panbpf.bindings.errno_h.EINTR()) {
                return 0;
            }
            throw new BpfException("epoll_wait", e, null);
        }
        for (int i = 0; i < n; i++) {
            if (tag(i) == WAKEUP_TAG) {
                wakeRequested = false;
                Sys.read(wake.get(), one);
            }
        }
        return n;
    }

    /**
     * Waits until {@code deadlineNanos} (from {@link Deadline#after}) for
     * any source; true when it was {@link #wakeup()} (or a close) that ended the wait.
     */
    public boolean awaitWokenUp(long deadlineNanos) {
        int ready = await(Deadline.millisLeft(deadlineNanos));
        for (int i = 0; i < ready; i++) {
            if (tag(i) == WAKEUP_TAG) {
                return true;
            }
        }
        return false;
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

    /** Releases a thread blocked in {@link #await}; safe from any thread, and a no-op once closed. */
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
    }

    @Override
    public void close() {
        synchronized (wakeLock) {
            wake.close();
        }
        epfd.close();
        arena.close();
    }
}
