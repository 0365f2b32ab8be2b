package dev.panbpf.testing;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Isolation runs test code on a fresh thread that lacks something, without touching the rest of the JVM or the
 * machine: Linux keeps capabilities and the mount namespace per thread, and the changes die with the thread.
 */
public final class Isolation {
    private Isolation() { }

    private static final int CLONE_NEWNS = 0x00020000;
    private static final long MS_REC = 16384;
    private static final long MS_PRIVATE = 1 << 18;
    private static final int MNT_DETACH = 2;
    /** _LINUX_CAPABILITY_VERSION_3: two 32-bit words per set. */
    private static final int CAP_VERSION_3 = 0x20080522;
    /** struct __user_cap_data_struct { u32 effective, permitted, inheritable; }[2]. */
    private static final int CAP_DATA_BYTES = 12;

    /** Runs {@code body} on a new thread whose effective capabilities are all dropped; returns what it threw. */
    public static Throwable withoutCapabilities(Callable<?> body) {
        return onFreshThread(() -> {
            try (Arena a = Arena.ofConfined()) {
                MemorySegment header = a.allocate(8);
                header.set(ValueLayout.JAVA_INT, 0, CAP_VERSION_3);
                MemorySegment data = a.allocate(2 * CAP_DATA_BYTES);
                check(Syscalls.capget(header, data), "capget");
                data.set(ValueLayout.JAVA_INT, 0, 0);
                data.set(ValueLayout.JAVA_INT, CAP_DATA_BYTES, 0);
                check(Syscalls.capset(header, data), "capset");
            }
            return body.call();
        });
    }

    /**
     * Runs {@code body} on a new thread in its own mount namespace where tracefs is unmounted; returns what it
     * threw. The namespace is made private first, so the unmount cannot propagate to the machine's.
     */
    public static Throwable withoutTracefs(Callable<?> body) {
        return onFreshThread(() -> {
            try (Arena a = Arena.ofConfined()) {
                check(Syscalls.unshare(CLONE_NEWNS), "unshare(CLONE_NEWNS)");
                check(Syscalls.mount(MemorySegment.NULL, a.allocateFrom("/"), MemorySegment.NULL, MS_REC | MS_PRIVATE),
                        "mount --make-rprivate /");
                check(Syscalls.umount2(a.allocateFrom("/sys/kernel/tracing"), MNT_DETACH), "umount tracefs");
            }
            return body.call();
        });
    }

    private static void check(int r, String what) {
        if (r != 0) {
            throw new IllegalStateException(what + " failed");
        }
    }

    private interface Body {
        Object run() throws Throwable;
    }

    private static Throwable onFreshThread(Body body) {
        AtomicReference<Throwable> thrown = new AtomicReference<>();
        Thread t = Thread.ofPlatform().name("isolated-test").unstarted(() -> {
            try {
                body.run();
            } catch (Throwable e) {
                thrown.set(e);
            }
        });
        t.start();
        try {
            t.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
        return thrown.get();
    }
}
