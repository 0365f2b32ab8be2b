package dev.panbpf.samples.net;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.FutureTask;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;

/**
 * NetNs runs Java code inside a named network namespace ({@code ip netns add NAME}). setns(2) moves only the
 * calling thread, so the code runs on a fresh thread that enters the namespace and ends with it; sockets it opens
 * belong to that namespace for their whole life.
 */
@SuppressWarnings("restricted") // three libc calls, made on purpose
public final class NetNs {
    private NetNs() { }

    private static final int O_RDONLY_CLOEXEC = 0x80000; // <fcntl.h> O_RDONLY | O_CLOEXEC
    private static final int CLONE_NEWNET = 0x40000000;  // <sched.h>
    private static final Linker.Option ERRNO = Linker.Option.captureCallState("errno");
    private static final VarHandle ERRNO_VALUE = Linker.Option.captureStateLayout()
            .varHandle(MemoryLayout.PathElement.groupElement("errno"));
    private static final MethodHandle OPEN = libc("open", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
    private static final MethodHandle SETNS = libc("setns", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT));
    private static final MethodHandle CLOSE = libc("close", FunctionDescriptor.of(JAVA_INT, JAVA_INT));

    /** Runs {@code body} inside namespace {@code name} and returns its result; its exception is rethrown. */
    public static <T> T call(String name, Callable<T> body) throws Exception {
        FutureTask<T> task = new FutureTask<>(() -> {
            enter(name);
            return body.call();
        });
        Thread t = new Thread(task, "netns-" + name);
        t.start();
        try {
            return task.get();
        } catch (ExecutionException e) {
            throw e.getCause() instanceof Exception x ? x : new IllegalStateException(e.getCause());
        }
    }

    private static void enter(String name) {
        String path = "/run/netns/" + name;
        try (Arena a = Arena.ofConfined()) {
            MemorySegment state = a.allocate(Linker.Option.captureStateLayout());
            int fd = (int) OPEN.invokeExact(state, a.allocateFrom(path), O_RDONLY_CLOEXEC);
            if (fd < 0) {
                throw new IllegalStateException("cannot open " + path + " (errno " + errno(state)
                        + "); does 'ip netns list' show " + name + "?");
            }
            int r = (int) SETNS.invokeExact(state, fd, CLONE_NEWNET);
            int err = errno(state);
            int ignored = (int) CLOSE.invokeExact(state, fd);
            if (r < 0) {
                throw new IllegalStateException("setns into " + name + " failed (errno " + err
                        + "); entering a network namespace needs CAP_SYS_ADMIN (root, or the ambient capabilities "
                        + "panbpf check lists for xdp-events)");
            }
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException("calling libc for " + path, t);
        }
    }

    private static int errno(MemorySegment state) {
        return (int) ERRNO_VALUE.get(state, 0L);
    }

    private static MethodHandle libc(String name, FunctionDescriptor fd) {
        Linker linker = Linker.nativeLinker();
        return linker.downcallHandle(linker.defaultLookup().find(name).orElseThrow(), fd, ERRNO);
    }
}
