package dev.panbpf.internal;

import dev.panbpf.BpfException;
import dev.panbpf.bindings.*;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.util.function.Consumer;

import static dev.panbpf.bindings.unistd_h.C_INT;
import static dev.panbpf.bindings.unistd_h.C_LONG;
import static dev.panbpf.bindings.unistd_h.C_POINTER;

/**
 * Sys is the thin syscall layer: each method makes one call and turns a failure into a {@link BpfException}
 * that names the operation and the errno. Nothing here allocates on success paths that run per record.
 */
public final class Sys {
    private Sys() { }

    private static final MethodHandle BPF =
            unistd_h.syscall.makeInvoker(C_INT, C_POINTER, C_INT).handle();
    private static final MethodHandle BPF_HOLDING =
            unistd_h.syscall.makeInvoker(C_INT, C_POINTER, C_INT, C_POINTER, C_POINTER).handle();
    private static final MethodHandle PERF_EVENT_OPEN =
            unistd_h.syscall.makeInvoker(C_POINTER, C_INT, C_INT, C_INT, C_LONG).handle();
    private static final MethodHandle IOCTL = sys_ioctl_h.ioctl.makeInvoker(C_LONG).handle();

    /** The page size of this machine. */
    public static final long PAGE_SIZE = unistd_h.sysconf(Errno.state(), unistd_h._SC_PAGESIZE());

    /** bpf(2) with {@code attr}; returns the result (an fd for commands that create one). */
    public static int bpf(int cmd, MemorySegment attr, String what) {
        int r = bpfNoThrow(cmd, attr);
        if (r < 0) {
            throw new BpfException("bpf(" + BpfCommands.name(cmd) + ")" + (what.isEmpty() ? "" : " on " + what),
                    -r, null);
        }
        return r;
    }

    /** bpf(2) returning {@code -errno} on failure instead of throwing, for callers that expect some errnos. */
    public static int bpfNoThrow(int cmd, MemorySegment attr) {
        MemorySegment st = Errno.state();
        long r;
        try {
            r = (long) BPF.invokeExact(st, (long) unistd_h.SYS_bpf(), cmd, attr, (int) attr.byteSize());
        } catch (Throwable t) {
            throw rethrow(t);
        }
        return r < 0 ? -Errno.of(st) : (int) r;
    }

    /**
     * bpf(2) with {@code attr}, whose pointer fields hold the addresses of {@code a} and {@code b} (either may be
     * {@link MemorySegment#NULL}); returns the result or {@code -errno}.
     *
     * <p>The kernel reaches those buffers through addresses inside {@code attr}, which the linker cannot see. So
     * they go along as two extra variadic arguments too: the linker keeps the arena of every segment argument
     * alive until the call returns, so another thread's {@code close()} of a shared arena fails meanwhile instead of
     * freeing memory the kernel is writing. bpf(2) takes three arguments; syscall() passes the rest in registers
     * the kernel ignores.
     *
     * @param cmd the bpf(2) command
     * @param attr the {@code union bpf_attr}
     * @param a a buffer {@code attr} points to, or NULL
     * @param b another buffer {@code attr} points to, or NULL
     * @return the result, or {@code -errno}
     * @throws IllegalStateException if the arena of {@code a} or {@code b} is closed
     * @throws WrongThreadException if {@code a} or {@code b} is confined to another thread
     */
    public static int bpfHolding(int cmd, MemorySegment attr, MemorySegment a, MemorySegment b) {
        MemorySegment st = Errno.state();
        long r;
        try {
            r = (long) BPF_HOLDING.invokeExact(st, (long) unistd_h.SYS_bpf(), cmd, attr, (int) attr.byteSize(), a, b);
        } catch (Throwable t) {
            throw rethrow(t);
        }
        return r < 0 ? -Errno.of(st) : (int) r;
    }

    /** perf_event_open(2); returns the new fd. */
    public static int perfEventOpen(MemorySegment attr, int pid, int cpu, int groupFd, long flags) {
        MemorySegment st = Errno.state();
        long r;
        try {
            r = (long) PERF_EVENT_OPEN.invokeExact(st, (long) unistd_h.SYS_perf_event_open(), attr, pid, cpu,
                    groupFd, flags);
        } catch (Throwable t) {
            throw rethrow(t);
        }
        if (r < 0) {
            throw new BpfException("perf_event_open(cpu " + cpu + ")", Errno.of(st), null);
        }
        return (int) r;
    }

    /** ioctl(2) with an integer argument. */
    public static int ioctl(int fd, long request, long arg, String what) {
        MemorySegment st = Errno.state();
        int r;
        try {
            r = (int) IOCTL.invokeExact(st, fd, request, arg);
        } catch (Throwable t) {
            throw rethrow(t);
        }
        if (r < 0) {
            throw new BpfException("ioctl(" + what + ")", Errno.of(st), null);
        }
        return r;
    }

    /**
     * mmap(2) of {@code fd}, returned as a segment of {@code length} bytes owned by {@code arena}: closing the
     * arena invalidates the segment first, then retires the mapping: it lets go of {@code fd}'s memory at once but
     * keeps the addresses mapped, as anonymous memory, for a while (see {@link RetiredMappings} for why), so no
     * access can touch unmapped memory, not even one that races the close.
     */
    public static MemorySegment mmap(Arena arena, long length, int prot, int fd, long offset, String what) {
        MemorySegment st = Errno.state();
        MemorySegment p = sys_mman_h.mmap(st, MemorySegment.NULL, length, prot, sys_mman_h.MAP_SHARED(), fd, offset);
        if (p.address() == -1L) {
            int e = Errno.of(st);
            String hint = e == errno_h.EPERM() && (prot & sys_mman_h.PROT_WRITE()) != 0
                    ? "the kernel maps this region read-only; map it with PROT_READ only" : null;
            throw new BpfException("mmap(" + what + ", " + length + " bytes at offset " + offset + ")", e, hint);
        }
        Consumer<MemorySegment> retire = s -> RetiredMappings.retire(s, length, prot, true);
        return p.reinterpret(length, arena, retire);
    }

    /**
     * Fresh private anonymous memory (zeroed, readable and writable) of {@code length} bytes, a multiple of the
     * page size, owned by {@code arena}. Closing the arena invalidates the segment; the memory stays mapped, with
     * its contents, for a grace period ({@link RetiredMappings}), so the closing thread may still read it through
     * the address right after the close.
     */
    public static MemorySegment mmapAnonymous(Arena arena, long length, String what) {
        MemorySegment st = Errno.state();
        int prot = sys_mman_h.PROT_READ() | sys_mman_h.PROT_WRITE();
        MemorySegment p = sys_mman_h.mmap(st, MemorySegment.NULL, length, prot,
                sys_mman_h.MAP_PRIVATE() | sys_mman_h.MAP_ANONYMOUS(), -1, 0);
        if (p.address() == -1L) {
            throw new BpfException("mmap(" + what + ", " + length + " anonymous bytes)", Errno.of(st), null);
        }
        Consumer<MemorySegment> retire = s -> RetiredMappings.retire(s, length, prot, false);
        return p.reinterpret(length, arena, retire);
    }

    /** close(2), ignoring errors: the fd is gone either way. */
    public static void close(int fd) {
        unistd_h.close(Errno.state(), fd);
    }

    /**
     * read(2) of up to {@code buf.byteSize()} bytes.
     *
     * @param fd the file descriptor
     * @param buf where the bytes go: writable native memory
     * @return the count, or {@code -errno}
     * @throws IllegalArgumentException if {@code buf} is read-only
     */
    public static long read(int fd, MemorySegment buf) {
        // The linker keeps buf alive during the call but does not stop the kernel writing a read-only segment.
        if (buf.isReadOnly()) {
            throw new IllegalArgumentException("read(2) of fd " + fd + " into a read-only segment; the kernel writes "
                    + "the bytes into it: pass a writable segment");
        }
        MemorySegment st = Errno.state();
        long r = unistd_h.read(st, fd, buf, buf.byteSize());
        return r < 0 ? -Errno.of(st) : r;
    }

    /** write(2) of {@code buf}; returns the count or {@code -errno}. */
    public static long write(int fd, MemorySegment buf) {
        MemorySegment st = Errno.state();
        long r = unistd_h.write(st, fd, buf, buf.byteSize());
        return r < 0 ? -Errno.of(st) : r;
    }

    /** epoll_create1(EPOLL_CLOEXEC). */
    public static int epollCreate() {
        MemorySegment st = Errno.state();
        int r = sys_epoll_h.epoll_create1(st, sys_epoll_h.EPOLL_CLOEXEC());
        if (r < 0) {
            throw new BpfException("epoll_create1", Errno.of(st), null);
        }
        return r;
    }

    /** eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK). */
    public static int eventfd() {
        MemorySegment st = Errno.state();
        int r = sys_eventfd_h.eventfd(st, 0, sys_eventfd_h.EFD_CLOEXEC() | sys_eventfd_h.EFD_NONBLOCK());
        if (r < 0) {
            throw new BpfException("eventfd", Errno.of(st), null);
        }
        return r;
    }

    /** The CPU this thread runs on now. */
    public static int currentCpu() {
        return sched_h.sched_getcpu(Errno.state());
    }

    /** Pins the calling thread to {@code cpu}. */
    public static void pinToCpu(int cpu) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment set = cpu_set_t.allocate(a);
            set.set(C_LONG, (cpu / 64) * 8L, 1L << (cpu % 64));
            MemorySegment st = Errno.state();
            if (sched_h.sched_setaffinity(st, 0, set.byteSize(), set) < 0) {
                throw new BpfException("sched_setaffinity(cpu " + cpu + ")", Errno.of(st),
                        "pick a CPU listed in /sys/devices/system/cpu/online");
            }
        }
    }

    /** The CPUs the calling thread may run on, as a bit set. */
    public static java.util.BitSet affinity() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment set = cpu_set_t.allocate(a);
            MemorySegment st = Errno.state();
            if (sched_h.sched_getaffinity(st, 0, set.byteSize(), set) < 0) {
                throw new BpfException("sched_getaffinity", Errno.of(st), null);
            }
            return java.util.BitSet.valueOf(set.toArray(C_LONG));
        }
    }

    /** Restores the calling thread's affinity to {@code cpus}. */
    public static void setAffinity(java.util.BitSet cpus) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment set = cpu_set_t.allocate(a);
            long[] words = cpus.toLongArray();
            MemorySegment.copy(MemorySegment.ofArray(words), 0, set, 0, Math.min(words.length * 8L, set.byteSize()));
            MemorySegment st = Errno.state();
            if (sched_h.sched_setaffinity(st, 0, set.byteSize(), set) < 0) {
                throw new BpfException("sched_setaffinity", Errno.of(st), null);
            }
        }
    }

    private static RuntimeException rethrow(Throwable t) {
        if (t instanceof RuntimeException r) {
            return r;
        }
        if (t instanceof Error e) {
            throw e;
        }
        return new IllegalStateException(t);
    }
}
