package dev.panbpf.internal;

import dev.panbpf.bindings.errno_h;
import dev.panbpf.bindings.string_h;
import dev.panbpf.bindings.unistd_h;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.invoke.VarHandle;
import java.lang.reflect.Method;
import java.util.HashMap;
import java.util.Map;

import static java.lang.foreign.MemoryLayout.PathElement.groupElement;

/** Errno turns errno values into names and advice, and holds each thread's call-state segment. */
public final class Errno {
    private Errno() { }

    private static final StructLayout STATE = unistd_h.errnoStateLayout();
    private static final VarHandle ERRNO = STATE.varHandle(groupElement("errno"));
    private static final ThreadLocal<MemorySegment> PER_THREAD =
            ThreadLocal.withInitial(() -> Arena.ofAuto().allocate(STATE));
    private static final Map<Integer, String> NAMES = names();

    private static Map<Integer, String> names() {
        Map<Integer, String> m = new HashMap<>();
        for (Method c : errno_h.class.getDeclaredMethods()) {
            if (c.getParameterCount() == 0 && c.getReturnType() == int.class && c.getName().startsWith("E")) {
                try {
                    m.putIfAbsent((int) c.invoke(null), c.getName());
                } catch (ReflectiveOperationException e) {
                    throw new IllegalStateException(e);
                }
            }
        }
        m.put(524, "ENOTSUPP");        // kernel-internal, leaks out of bpf(2)
        return Map.copyOf(m);
    }

    /** This thread's call-state segment, passed as the first argument of errno-capturing downcalls. */
    public static MemorySegment state() {
        return PER_THREAD.get();
    }

    /** The errno stored in {@code state} by the last capturing call. */
    public static int of(MemorySegment state) {
        return (int) ERRNO.get(state, 0L);
    }

    /** The errno left by this thread's last capturing call. */
    public static int last() {
        return of(state());
    }

    /** The symbolic name of {@code errno}, such as EPERM. */
    public static String name(int errno) {
        return NAMES.getOrDefault(errno, "errno " + errno);
    }

    /** The C library's text for {@code errno}. */
    public static String describe(int errno) {
        if (errno == 524) {
            return "operation not supported by this kernel";
        }
        return string_h.strerror(errno).reinterpret(256).getString(0);
    }

    /** General advice for an errno, used when the caller has nothing more specific; starts with ": ". */
    public static String defaultHint(int errno) {
        return switch (NAMES.getOrDefault(errno, "")) {
            case "EPERM", "EACCES" -> ": run as root, or grant CAP_BPF and CAP_PERFMON (CAP_NET_ADMIN for XDP, "
                    + "CAP_SYS_ADMIN on kernels before 5.8)";
            case "ENOMEM" -> ": the kernel could not allocate memory; lower the size, or raise RLIMIT_MEMLOCK "
                    + "(ulimit -l unlimited) on kernels before 5.11";
            case "E2BIG" -> ": the request is larger than this kernel accepts";
            case "EBADF" -> ": the file descriptor is closed or of the wrong kind";
            case "EINVAL" -> ": the kernel rejected an argument (size, flags or type)";
            case "ENOSYS", "EOPNOTSUPP", "ENOTSUPP" -> ": this kernel does not support the operation";
            case "EMFILE" -> ": this process has as many open files as its limit allows; raise the fd limit "
                    + "(ulimit -n, or LimitNOFILE= for a systemd service) or close unused objects";
            case "ENFILE" -> ": the system-wide table of open files is full; raise fs.file-max (sysctl) or close "
                    + "files";
            default -> "";
        };
    }
}
