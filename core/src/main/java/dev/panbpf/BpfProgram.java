package dev.panbpf;

import dev.panbpf.bindings.bpf_attr;
import dev.panbpf.bindings.bpf_h;
import dev.panbpf.bindings.errno_h;
import dev.panbpf.bindings.libbpf_h;
import dev.panbpf.internal.BpfCommands;
import dev.panbpf.internal.Errno;
import dev.panbpf.internal.Fd;
import dev.panbpf.internal.Libbpf;
import dev.panbpf.internal.LibbpfLog;
import dev.panbpf.internal.Sys;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.util.BitSet;
import java.util.List;

/**
 * BpfProgram is one program of a {@link BpfObject}: attach it where libbpf knows how ({@link #attach()}, from its
 * section name), to a network interface ({@link #attachXdp}), or run it directly with {@link #testRun}. It
 * belongs to its object and is released when the object closes.
 */
public final class BpfProgram {
    /**
     * What one {@link #testRun} returned: the program's return value and the kernel's average time per run.
     *
     * @param retval the program's return value (for XDP an XDP_* action)
     * @param durationNanos the kernel's average time per run, in nanoseconds
     */
    public record RunResult(int retval, long durationNanos) { }

    private final BpfObject owner;
    private final MemorySegment program;
    private final String name;
    private final String section;
    private final int type;
    private volatile Fd fd;

    BpfProgram(BpfObject owner, MemorySegment program) {
        this.owner = owner;
        this.program = program;
        this.name = Libbpf.string(libbpf_h.bpf_program__name(program));
        this.section = Libbpf.string(libbpf_h.bpf_program__section_name(program));
        this.type = libbpf_h.bpf_program__type(program);
    }

    /** Picks up the fd libbpf got for the program at load. */
    void loaded() {
        int f = libbpf_h.bpf_program__fd(program);
        if (f >= 0) {
            fd = Fd.borrowed(f, "program '" + name + "'");
        }
    }

    /** Marks the program closed when its object closes (libbpf closes the fd). */
    void release() {
        Fd f = fd;
        if (f != null) {
            f.close();
        }
    }

    /** {@return the program's name: its C function name} */
    public String name() {
        return name;
    }

    /** {@return the ELF section of the program, such as {@code "xdp"} or {@code "tp/syscalls/sys_enter_getpid"}} */
    public String section() {
        return section;
    }

    /** {@return the kernel's program type number (BPF_PROG_TYPE_*)} */
    public int type() {
        return type;
    }

    /** {@return the program's fd; throws before load or after the object closed} */
    public int fd() {
        Fd f = fd;
        if (f == null) {
            owner.requireLoaded("use program '" + name + "'");
            throw new BpfException("program '" + name + "' was not loaded (autoload is off)");
        }
        return f.get();
    }

    // ---------------------------------------------------------------------------------------------- test runs

    /**
     * Runs the program once over {@code data} with BPF_PROG_TEST_RUN.
     *
     * @param data the input, such as a packet
     * @return the return value and the time the run took
     */
    public RunResult testRun(byte[] data) {
        return testRun(data, 1);
    }

    /**
     * Runs the program {@code repeat} times over {@code data} (a packet for XDP and socket filters).
     *
     * @param data the input, such as a packet
     * @param repeat how many times the kernel runs the program
     * @return the last return value and the average time per run
     */
    public RunResult testRun(byte[] data, int repeat) {
        if (data.length == 0) {
            return testRun(MemorySegment.NULL, MemorySegment.NULL, repeat, -1);
        }
        try (Arena a = Arena.ofConfined()) {
            return testRun(a.allocateFrom(ValueLayout.JAVA_BYTE, data), MemorySegment.NULL, repeat, -1);
        }
    }

    /**
     * Runs the program {@code repeat} times over {@code data} on the calling thread's CPU.
     *
     * @param data the packet, native memory the kernel reads
     * @param repeat how many runs, at least 1
     * @return the last run's return value and the average duration
     * @throws RuntimeException as {@link #testRun(MemorySegment, MemorySegment, int, int)}
     */
    public RunResult testRun(MemorySegment data, int repeat) {
        return testRun(data, MemorySegment.NULL, repeat, -1);
    }

    /**
     * Runs the program {@code repeat} times over {@code data} on CPU {@code cpu}.
     *
     * @param data the packet, native memory the kernel reads
     * @param repeat how many runs, at least 1
     * @param cpu the CPU to run on, or -1 for the calling thread's
     * @return the last run's return value and the average duration
     * @throws RuntimeException as {@link #testRun(MemorySegment, MemorySegment, int, int)}
     */
    public RunResult testRun(MemorySegment data, int repeat, int cpu) {
        return testRun(data, MemorySegment.NULL, repeat, cpu);
    }

    /**
     * Runs the program with BPF_PROG_TEST_RUN: {@code repeat} times (at least 1) over the packet {@code data}
     * and/or the context {@code ctx} (SEC("syscall") programs take only a context, which the kernel writes back
     * into {@code ctx}); either may be {@link MemorySegment#NULL}. With {@code cpu >= 0} the calling thread is
     * pinned to that CPU for the run (the kernel runs most program types on the caller's CPU) and its affinity
     * restored afterwards.
     *
     * @param data the packet, native memory the kernel reads, or {@link MemorySegment#NULL}
     * @param ctx the context, native memory the kernel reads (and for SEC("syscall") programs writes: then it
     *        must be writable), or {@link MemorySegment#NULL}
     * @param repeat how many runs, at least 1
     * @param cpu the CPU to run on, or -1 for the calling thread's
     * @return the last run's return value and the average duration
     * @throws IllegalArgumentException if {@code repeat} is below 1, a segment is on the heap or larger than the
     *         kernel's u32 size, or a context the kernel writes is read-only
     * @throws IllegalStateException if a segment's arena is closed
     * @throws WrongThreadException if a segment is confined to another thread
     * @throws BpfException if the program is not loaded or closed, or the kernel refuses the run
     */
    public RunResult testRun(MemorySegment data, MemorySegment ctx, int repeat, int cpu) {
        if (repeat < 1) {
            throw new IllegalArgumentException("repeat must be at least 1, got " + repeat);
        }
        SegmentChecks.kernelReads(data, "data", this);
        boolean syscall = type == bpf_h.BPF_PROG_TYPE_SYSCALL();
        if (syscall) {
            // The kernel runs these once, on a context alone, and refuses a repeat or data with EINVAL.
            if (repeat != 1 || data.address() != 0) {
                throw new IllegalArgumentException(this + " is a SEC(\"syscall\") program: a test run runs it once "
                        + "on its context alone; pass data MemorySegment.NULL and repeat 1");
            }
            SegmentChecks.kernelWrites(ctx, "context", this);
        } else {
            SegmentChecks.kernelReads(ctx, "context", this);
        }
        checkU32Size(data, "data");
        checkU32Size(ctx, "context");
        fd();                                  // the clear error before load or after close
        Fd held = fd;
        int progFd = held.acquire();           // a close on another thread waits until the run is over
        try (Arena a = Arena.ofConfined()) {
            MemorySegment attr = bpf_attr.allocate(a);
            MemorySegment t = bpf_attr.test(attr);
            bpf_attr.test.prog_fd(t, progFd);
            bpf_attr.test.repeat(t, syscall ? 0 : repeat);
            if (data.address() != 0) {
                bpf_attr.test.data_in(t, data.address());
                bpf_attr.test.data_size_in(t, (int) data.byteSize());   // u32: checked above
            }
            if (ctx.address() != 0) {
                bpf_attr.test.ctx_in(t, ctx.address());
                bpf_attr.test.ctx_size_in(t, (int) ctx.byteSize());
            }
            int r;
            if (cpu < 0) {
                r = Sys.bpfHolding(bpf_h.BPF_PROG_TEST_RUN(), attr, data, ctx);
            } else {
                BitSet before = Sys.affinity();
                // A thread already pinned there (a producer loop) keeps its place: no migration per run.
                boolean move = before.cardinality() != 1 || !before.get(cpu);
                if (move) {
                    Sys.pinToCpu(cpu);
                }
                try {
                    r = Sys.bpfHolding(bpf_h.BPF_PROG_TEST_RUN(), attr, data, ctx);
                } finally {
                    if (move) {
                        Sys.setAffinity(before);
                    }
                }
            }
            if (r < 0) {
                throw testRunFailure(-r, data);
            }
            return new RunResult(bpf_attr.test.retval(t), Integer.toUnsignedLong(bpf_attr.test.duration(t)));
        } finally {
            held.release();
        }
    }

    /** The kernel takes a u32 size: a larger segment must not be cut down to its low 32 bits. */
    private void checkU32Size(MemorySegment s, String role) {
        if (s.byteSize() > 0xFFFF_FFFFL) {
            throw new IllegalArgumentException(this + ": the " + role + " segment has " + s.byteSize() + " bytes; "
                    + "the kernel takes at most 4294967295 (a u32 size): pass a slice of it");
        }
    }

    private BpfException testRunFailure(int errno, MemorySegment data) {
        String hint = null;
        if (errno == errno_h.EINVAL() && type == bpf_h.BPF_PROG_TYPE_XDP() && data.byteSize() < 14) {
            hint = "an XDP test run needs a packet of at least 14 bytes (an Ethernet header); 64 is typical";
        } else if (errno == errno_h.EINVAL() || errno == errno_h.EOPNOTSUPP() || errno == 524) {
            hint = BpfCommands.progType(type) + " programs may not support test runs with this input; XDP, socket "
                    + "filter, raw tracepoint and syscall programs do";
        }
        return new BpfException("bpf(BPF_PROG_TEST_RUN) of program '" + name + "'", errno, hint);
    }

    // ------------------------------------------------------------------------------------------------ attach

    /**
     * Attaches the program where its section says (tracepoints {@code tp/category/name}, raw tracepoints
     * {@code raw_tp/name} and the other kinds libbpf attaches by itself). Close the link to detach.
     *
     * @return the link that keeps the program attached
     */
    public BpfLink attach() {
        return attach("attach", st -> libbpf_h.bpf_program__attach(st, program));
    }

    /**
     * Attaches an XDP program to the network interface {@code ifname} (in this thread's network namespace).
     *
     * @param ifname the interface name, such as {@code "eth0"}
     * @return the link that keeps the program attached
     */
    public BpfLink attachXdp(String ifname) {
        NetworkInterface nif;
        try {
            nif = NetworkInterface.getByName(ifname);
        } catch (SocketException e) {
            throw new BpfException("cannot look up network interface '" + ifname + "': " + e.getMessage(), e);
        }
        if (nif == null) {
            throw new BpfException("no network interface '" + ifname + "' in this network namespace; list them with "
                    + "`ip link`");
        }
        return attachXdp(nif.getIndex());
    }

    /**
     * Attaches an XDP program to the network interface with index {@code ifindex}.
     *
     * @param ifindex the interface index
     * @return the link that keeps the program attached
     */
    public BpfLink attachXdp(int ifindex) {
        if (type != bpf_h.BPF_PROG_TYPE_XDP()) {
            throw new BpfException("program '" + name + "' is a " + BpfCommands.progType(type) + " program (section '"
                    + section + "'); attachXdp needs an XDP program, SEC(\"xdp\")");
        }
        return attach("XDP attach to interface " + ifindex,
                st -> libbpf_h.bpf_program__attach_xdp(st, program, ifindex));
    }

    private interface AttachCall {
        MemorySegment attach(MemorySegment errnoState);
    }

    private BpfLink attach(String how, AttachCall call) {
        synchronized (owner) {
            owner.requireLoaded(how + " program '" + name + "'");
            fd();
            MemorySegment link;
            int errno;
            List<String> messages;
            try (LibbpfLog.Capture c = LibbpfLog.capture()) {
                MemorySegment st = Errno.state();
                link = call.attach(st);
                errno = Errno.of(st);
                messages = c.messages();
            }
            if (link.address() == 0) {
                throw LibbpfFailure.attach(this, how, errno, messages);
            }
            BpfLink l = new BpfLink(owner, link, "link of program '" + name + "' (" + section + ")");
            owner.adopt(l);
            return l;
        }
    }

    @Override
    public String toString() {
        return BpfCommands.progType(type) + " program '" + name + "' (section " + section + ")";
    }
}
