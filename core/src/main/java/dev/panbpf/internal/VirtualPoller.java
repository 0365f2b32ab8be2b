package dev.panbpf.internal;

import dev.panbpf.BpfException;
import dev.panbpf.bindings.epoll_event;
import dev.panbpf.bindings.errno_h;
import dev.panbpf.bindings.sys_epoll_h;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

/**
 * VirtualPoller lets a virtual thread wait for an epoll without pinning its carrier: a native epoll_wait would
 * hold the carrier for the whole wait. One daemon platform thread for the whole JVM owns a master epoll; a
 * waiting reader registers its own epoll fd there (an epoll fd is readable when it has ready events), one-shot and
 * tagged with a fresh id, and parks. The poller thread unparks the waiter whose fd became ready; the waiter then
 * deregisters and collects with a zero-timeout epoll_wait of its own.
 *
 * <p>The master epoll and the thread are created on first use and live as long as the JVM: one fd and one thread,
 * whatever the number of readers. A waiter is removed from the master epoll before its wait returns.
 */
final class VirtualPoller {
    /** EPOLLONESHOT (1u << 30): the fd reports once, so the poller does not see it again while its owner runs. */
    private static final int ONESHOT = 1 << 30;
    private static final int BATCH = 64;
    private static volatile VirtualPoller instance;

    private final int master;
    private final ConcurrentHashMap<Long, Waiter> waiters = new ConcurrentHashMap<>();
    private final AtomicLong ids = new AtomicLong();

    /** Waiter is one parked wait: the thread to unpark and whether its fd was reported. */
    static final class Waiter {
        final Thread thread = Thread.currentThread();
        volatile boolean ready;

        void fire() {
            ready = true;
            LockSupport.unpark(thread);
        }
    }

    private VirtualPoller(int master) {
        this.master = master;
    }

    /** The poller, started on first use; a failed start (fd limit) is reported and tried again next time. */
    static VirtualPoller get() {
        VirtualPoller p = instance;
        if (p != null) {
            return p;
        }
        synchronized (VirtualPoller.class) {
            if (instance == null) {
                VirtualPoller created = new VirtualPoller(Sys.epollCreate());
                Thread.ofPlatform().daemon().name("panbpf-virtual-poller").start(created::run);
                instance = created;
            }
            return instance;
        }
    }

    /**
     * Registers {@code epfd} for the calling thread, so that {@link Waiter#ready} is set and the thread unparked
     * once {@code epfd} has events; returns the registration id for {@link #remove}. The caller guarantees that
     * {@code epfd} stays open until it calls remove.
     */
    long add(int epfd, Waiter waiter) {
        long id = ids.incrementAndGet();
        waiters.put(id, waiter);
        try (Arena a = Arena.ofConfined()) {
            MemorySegment ev = epoll_event.allocate(a);
            epoll_event.events(ev, sys_epoll_h.EPOLLIN() | ONESHOT);
            epoll_event.data.u64(epoll_event.data(ev), id);
            MemorySegment st = Errno.state();
            if (sys_epoll_h.epoll_ctl(st, master, sys_epoll_h.EPOLL_CTL_ADD(), epfd, ev) < 0) {
                waiters.remove(id);
                throw new BpfException("epoll_ctl(ADD epoll fd " + epfd + ") on the virtual-thread poller",
                        Errno.of(st), null);
            }
        }
        return id;
    }

    /**
     * Ends registration {@code id} of {@code epfd}: after this the poller neither watches the fd nor wakes us.
     * {@code epfd} -1: the fd was closed meanwhile, which already took it out of the master epoll.
     */
    void remove(int epfd, long id) {
        waiters.remove(id);
        if (epfd < 0) {
            return;
        }
        MemorySegment st = Errno.state();
        // ENOENT/EBADF cannot matter here: either way the fd is no longer in the master epoll.
        sys_epoll_h.epoll_ctl(st, master, sys_epoll_h.EPOLL_CTL_DEL(), epfd, MemorySegment.NULL);
    }

    /** The poller thread: report ready fds for ever; nothing a waiter does can end it. */
    private void run() {
        MemorySegment events = Arena.global().allocate(epoll_event.layout(), BATCH);
        MemorySegment st = Errno.state();
        while (true) {
            try {
                int n = sys_epoll_h.epoll_wait(st, master, events, BATCH, -1);
                if (n < 0 && Errno.of(st) != errno_h.EINTR()) {
                    LockSupport.parkNanos(10_000_000L);     // cannot happen with a valid epoll; do not spin
                }
                for (int i = 0; i < n; i++) {
                    MemorySegment ev = events.asSlice(i * epoll_event.sizeof(), epoll_event.sizeof());
                    Waiter w = waiters.get(epoll_event.data.u64(epoll_event.data(ev)));
                    if (w != null) {
                        w.fire();
                    }
                }
            } catch (Throwable t) {
                // keep serving the other waiters (a waiter's own wait still ends at its deadline); do not spin
                LockSupport.parkNanos(10_000_000L);
            }
        }
    }
}
