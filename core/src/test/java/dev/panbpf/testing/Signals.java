package dev.panbpf.testing;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;

/**
 * Signals interrupts a thread's blocking system call the way a real signal does (EINTR), for tests of retry
 * loops. It installs, for SIGURG only (ignored by default, unused by the JVM), a handler that does nothing: the
 * address of libc's getpid, which ignores its argument and returns, so no Java code runs in signal context.
 * {@link #close()} puts the old disposition back.
 */
public final class Signals implements AutoCloseable {
    /** SIGURG on Linux (x86-64 and arm64 alike). */
    private static final int SIGURG = 23;
    /** struct sigaction (glibc, x86-64/arm64): handler, 128-byte mask, int flags (+4 pad), restorer. */
    private static final long SIGACTION_BYTES = 152;
    private static final long FLAGS_AT = 8 + 128;

    private static final Linker LINKER = Linker.nativeLinker();
    private static final MethodHandle SIGACTION = LINKER.downcallHandle(
            LINKER.defaultLookup().find("sigaction").orElseThrow(),
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.ADDRESS,
                    ValueLayout.ADDRESS));
    private static final MethodHandle TGKILL = LINKER.downcallHandle(
            LINKER.defaultLookup().find("tgkill").orElseThrow(),
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT,
                    ValueLayout.JAVA_INT));
    private static final MemorySegment GETPID = LINKER.defaultLookup().find("getpid").orElseThrow();

    private final Arena arena = Arena.ofShared();
    private final MemorySegment old = arena.allocate(SIGACTION_BYTES, 8);

    /** Installs the do-nothing handler for SIGURG, without SA_RESTART (epoll_wait is never restarted anyway). */
    public Signals() {
        MemorySegment act = arena.allocate(SIGACTION_BYTES, 8);
        act.set(ValueLayout.ADDRESS, 0, GETPID);
        act.set(ValueLayout.JAVA_INT, FLAGS_AT, 0);
        try {
            if ((int) SIGACTION.invokeExact(SIGURG, MemorySegment.NULL, old) != 0) {
                throw new IllegalStateException("sigaction(SIGURG) failed");
            }
            long previous = old.get(ValueLayout.JAVA_LONG, 0);
            if (previous != 0 && previous != 1) {   // neither SIG_DFL nor SIG_IGN: someone else's handler
                throw new IllegalStateException("SIGURG already has a handler in this process; not replacing it");
            }
            if ((int) SIGACTION.invokeExact(SIGURG, act, MemorySegment.NULL) != 0) {
                throw new IllegalStateException("sigaction(SIGURG) failed");
            }
        } catch (Throwable t) {
            arena.close();
            throw t instanceof RuntimeException r ? r : new IllegalStateException(t);
        }
    }

    /**
     * Sends SIGURG to thread {@code tid} of this process: its blocking call returns EINTR. Returns false when
     * the thread is gone already (its call returned).
     */
    public boolean interrupt(int tid) {
        try {
            return (int) TGKILL.invokeExact(Syscalls.getpid(), tid, SIGURG) == 0;
        } catch (Throwable t) {
            throw t instanceof RuntimeException r ? r : new IllegalStateException(t);
        }
    }

    @Override
    public void close() {
        try {
            int r = (int) SIGACTION.invokeExact(SIGURG, old, MemorySegment.NULL);
            if (r != 0) {
                throw new IllegalStateException("restoring SIGURG failed");
            }
        } catch (Throwable t) {
            throw t instanceof RuntimeException r ? r : new IllegalStateException(t);
        } finally {
            arena.close();
        }
    }
}
