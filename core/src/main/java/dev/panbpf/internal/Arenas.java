package dev.panbpf.internal;

import java.lang.foreign.Arena;
import java.util.concurrent.locks.LockSupport;

/**
 * Arenas closes shared arenas whose segments may be held by a native call on another thread. Such an arena
 * refuses to close ("acquired by 1 clients") until the call returns; the calls are single syscalls (a map
 * lookup, a test run given a record as its packet), so waiting them out is right, but not forever.
 */
public final class Arenas {
    private static final long WAIT_NANOS = 10_000_000_000L;

    private Arenas() { }

    /**
     * Closes {@code arena} once no native call holds it, waiting at most 10 s; then throws an
     * IllegalStateException naming {@code what}, with the arena still open (its memory stays valid, never freed
     * under the call).
     */
    public static void closeWhenFree(Arena arena, String what) {
        long start = System.nanoTime();
        boolean interrupted = false;
        try {
            interrupted = waitAndClose(arena, what, start);
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private static boolean waitAndClose(Arena arena, String what, long start) {
        boolean interrupted = false;
        while (arena.scope().isAlive()) {
            try {
                arena.close();
            } catch (IllegalStateException inUse) {
                if (!arena.scope().isAlive()) {
                    break;                                      // closed by someone else meanwhile
                }
                if (System.nanoTime() - start > WAIT_NANOS) {
                    throw new IllegalStateException(what + " are still held by a native call on another thread "
                            + "after 10 s; end that call, then close again", inUse);
                }
                // An interrupted thread's park returns at once: set the flag aside until the end.
                interrupted |= Thread.interrupted();
                LockSupport.parkNanos(100_000);
            }
        }
        return interrupted;
    }
}
