package dev.panbpf.testing;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.util.ArrayList;
import java.util.List;

/**
 * FdLimit leaves this process exactly {@code n} free file descriptors for a moment: it fills the holes below the
 * highest fd in use with /dev/null, then lowers RLIMIT_NOFILE's soft limit to just above them, so the next
 * open(2) past those {@code n} fails with EMFILE. {@link #close()} restores the limit and closes the fillers.
 *
 * <p>While it is in force nothing in this JVM can open a file, not even to load a class: run only code that has
 * run before (so its classes are loaded), and assert after close.
 */
public final class FdLimit implements AutoCloseable {
    private static final int RLIMIT_NOFILE = 7;
    private static final int O_RDONLY_CLOEXEC = 0x80000;
    private static final Linker LINKER = Linker.nativeLinker();
    private static final MethodHandle GETRLIMIT = handle("getrlimit",
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.ADDRESS));
    private static final MethodHandle SETRLIMIT = handle("setrlimit",
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.ADDRESS));
    private static final MethodHandle OPEN = LINKER.downcallHandle(LINKER.defaultLookup().find("open").orElseThrow(),
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT),
            Linker.Option.firstVariadicArg(2));
    private static final MethodHandle CLOSE = handle("close",
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));

    private static MethodHandle handle(String name, FunctionDescriptor d) {
        return LINKER.downcallHandle(LINKER.defaultLookup().find(name).orElseThrow(), d);
    }

    private final Arena arena = Arena.ofShared();
    private final MemorySegment saved = arena.allocate(16, 8);
    private final List<Integer> fillers = new ArrayList<>();

    /** Leaves exactly {@code free} fds (the lowest free numbers) open-able. */
    public FdLimit(int free) {
        try {
            check((int) GETRLIMIT.invokeExact(RLIMIT_NOFILE, saved), "getrlimit");
            MemorySegment path = arena.allocateFrom("/dev/null");
            int highest = highestFd();
            int fd;
            // open(2) returns the lowest free number: once that is above every fd in use, no hole is left.
            while ((fd = (int) OPEN.invokeExact(path, O_RDONLY_CLOEXEC)) >= 0 && fd <= highest) {
                fillers.add(fd);
            }
            check(fd, "open(/dev/null)");
            check((int) CLOSE.invokeExact(fd), "close");  // fd is now the lowest free number
            MemorySegment lowered = arena.allocate(16, 8);
            lowered.set(ValueLayout.JAVA_LONG, 0, fd + free);
            lowered.set(ValueLayout.JAVA_LONG, 8, saved.get(ValueLayout.JAVA_LONG, 8));
            check((int) SETRLIMIT.invokeExact(RLIMIT_NOFILE, lowered), "setrlimit");
        } catch (Throwable t) {
            close();
            throw t instanceof RuntimeException r ? r : new IllegalStateException(t);
        }
    }

    private static int highestFd() throws java.io.IOException {
        try (var s = java.nio.file.Files.list(java.nio.file.Path.of("/proc/self/fd"))) {
            return s.mapToInt(p -> Integer.parseInt(p.getFileName().toString())).max().orElse(0);
        }
    }

    private static void check(int r, String what) {
        if (r < 0) {
            throw new IllegalStateException(what + " failed");
        }
    }

    @Override
    public void close() {
        try {
            int r = (int) SETRLIMIT.invokeExact(RLIMIT_NOFILE, saved);
            for (int fd : fillers) {
                int ignored = (int) CLOSE.invokeExact(fd);
            }
            fillers.clear();
            check(r, "setrlimit (restore)");
        } catch (Throwable t) {
            throw t instanceof RuntimeException r ? r : new IllegalStateException(t);
        } finally {
            arena.close();
        }
    }
}
