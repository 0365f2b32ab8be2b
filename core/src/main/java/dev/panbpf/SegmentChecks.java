package dev.panbpf;

import java.lang.foreign.MemorySegment;

/**
 * SegmentChecks vets a caller's segment before its address goes to the kernel. The kernel reads and writes
 * through a raw address, past every check Java would make: into freed memory if the arena was closed, into
 * memory another thread owns, or into a segment handed out read-only. So each check here fails first, with an
 * exception naming the map or program, the segment's role and the fix. The size is the caller's to check, since
 * what the right size is depends on the map or program.
 *
 * <p>A check alone cannot stop another thread from closing a shared arena right after it; the syscall layer
 * also passes the segments to the downcall (see {@code Sys.bpfHolding}), which keeps them alive during the call.
 */
final class SegmentChecks {
    private SegmentChecks() { }

    /** Checks {@code s}, the {@code role} ("key", "value"...) in an operation of {@code owner}, for a kernel read. */
    static void kernelReads(MemorySegment s, String role, Object owner) {
        check(s, role, owner, false);
    }

    /** Checks {@code s}, the {@code role} in an operation of {@code owner}, for the kernel to write into. */
    static void kernelWrites(MemorySegment s, String role, Object owner) {
        check(s, role, owner, true);
    }

    private static void check(MemorySegment s, String role, Object owner, boolean written) {
        if (!s.scope().isAlive()) {
            throw new IllegalStateException(owner + ": the " + role + " segment's arena is closed, so its memory may "
                    + "already be freed or reused, and the kernel would " + (written ? "write into" : "read") + " it: "
                    + "pass a segment of an open arena");
        }
        if (!s.isAccessibleBy(Thread.currentThread())) {
            throw new WrongThreadException(owner + ": the " + role + " segment belongs to a confined arena of another "
                    + "thread: use it on that thread, or allocate it from a shared arena (Arena.ofShared())");
        }
        if (!s.isNative() && s.byteSize() > 0) {
            throw new IllegalArgumentException(owner + ": the " + role + " is a heap segment; the kernel needs native "
                    + "memory, e.g. arena.allocate(...) or arena.allocateFrom(...)");
        }
        if (written && s.isReadOnly()) {
            throw new IllegalArgumentException(owner + ": the " + role + " segment is read-only; the kernel writes the "
                    + role + " into it: pass a writable segment");
        }
    }
}
