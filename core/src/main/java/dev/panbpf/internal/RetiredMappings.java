package dev.panbpf.internal;

import dev.panbpf.bindings.sys_mman_h;

import java.lang.foreign.MemorySegment;
import java.util.ArrayDeque;

/**
 * RetiredMappings keeps the address range of a mapping whose arena just closed mapped, as harmless private
 * memory, for a grace period before unmapping it.
 *
 * <p>Why: closing a shared arena does not guarantee that no thread touches its memory afterwards (JDK-8364167,
 * seen on JDK 25.0.3, openjdk/jdk#30436). The close handshake can find another thread past the liveness check
 * but not yet at its access: in C1 code, {@code Unsafe.getLongUnaligned} is a call of its own, which can stop in
 * the VM (an invocation-counter overflow, an entry barrier) where async exceptions are not installed. The close
 * then only queues the exception and returns; the thread does its one access and throws at its next safepoint
 * poll. Unmapping at once turns that access into a SIGSEGV that kills the JVM (GlobalsLifetimeTest crashed so,
 * in {@code Unsafe.putLongUnaligned} and {@code getLongUnaligned} on the just-unmapped page).
 *
 * <p>So a retired range is first replaced, in one {@code mmap(MAP_FIXED)}, by an anonymous private mapping of
 * the same protection: the file (the BPF map, the ring) is let go at once, and a late access reads zeros or
 * writes into a page nobody else uses. The range is unmapped once it has been retired for {@link #GRACE_NANOS},
 * the next time something else is retired: at most the ranges retired within the last grace period (and the
 * last ones retired) stay mapped, a page or two each.
 */
public final class RetiredMappings {
    /**
     * How long a retired range stays mapped. A late access is one instruction away from the point where the
     * thread was stopped, so this only has to outlast the thread being descheduled there.
     */
    static final long GRACE_NANOS = 5_000_000_000L;

    private record Range(long address, long length, long retiredAt) { }

    private static final ArrayDeque<Range> RANGES = new ArrayDeque<>();

    private RetiredMappings() { }

    /**
     * Retires the mapping at {@code address}: replaced by fresh anonymous memory with {@code prot} if
     * {@code replace} (if not, it must already be private memory nobody else can see), unmapped after the grace
     * period. Runs as the cleanup of the arena that owned the mapping, after that arena closed.
     */
    static void retire(MemorySegment address, long length, int prot, boolean replace) {
        long now = System.nanoTime();
        if (replace) {
            MemorySegment p = sys_mman_h.mmap(Errno.state(), address, length, prot,
                    sys_mman_h.MAP_FIXED() | sys_mman_h.MAP_PRIVATE() | sys_mman_h.MAP_ANONYMOUS(), -1, 0);
            // If that failed (ENOMEM), the old mapping is still there: keeping it mapped for the grace period
            // holds the file a little longer, which is better than a late access faulting.
            assert p.address() == -1L || p.address() == address.address();
        }
        synchronized (RANGES) {
            reclaim(now);
            RANGES.addLast(new Range(address.address(), length, now));
        }
    }

    private static void reclaim(long now) {
        for (Range r = RANGES.peekFirst(); r != null && now - r.retiredAt() >= GRACE_NANOS; r = RANGES.peekFirst()) {
            RANGES.removeFirst();
            sys_mman_h.munmap(Errno.state(), MemorySegment.ofAddress(r.address()), r.length());
        }
    }
}
