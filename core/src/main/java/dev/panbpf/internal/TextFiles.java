package dev.panbpf.internal;

import dev.panbpf.BpfException;
import dev.panbpf.bindings.errno_h;
import dev.panbpf.bindings.unistd_h;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.charset.StandardCharsets;

/**
 * TextFiles reads small kernel text files (/sys, /proc) with open(2) and read(2) directly, so that a failure
 * reports the errno that happened: java.nio says only "cannot read", and a process out of fds (EMFILE) then
 * looks like a missing /sys.
 */
public final class TextFiles {
    private TextFiles() { }

    /** O_RDONLY | O_CLOEXEC, the same on every Linux architecture panbpf runs on (asm-generic fcntl.h). */
    private static final int O_RDONLY_CLOEXEC = 0x80000;
    private static final MethodHandle OPEN = Linker.nativeLinker().downcallHandle(
            Linker.nativeLinker().defaultLookup().find("open").orElseThrow(),
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT),
            Linker.Option.firstVariadicArg(2), Linker.Option.captureCallState("errno"));

    /**
     * The contents of a small text file (at most 64 KiB).
     *
     * @param path the file
     * @param missingHint the advice when it does not exist (ENOENT)
     * @return its text
     * @throws BpfException with the errno of the failed open or read, and for errnos other than ENOENT their
     *         usual advice (EMFILE: raise the fd limit)
     */
    public static String read(String path, String missingHint) {
        MemorySegment st = Errno.state();
        int fd;
        try (Arena a = Arena.ofConfined()) {
            try {
                fd = (int) OPEN.invokeExact(st, a.allocateFrom(path), O_RDONLY_CLOEXEC);
            } catch (Throwable t) {
                throw new IllegalStateException("open(" + path + ")", t);
            }
            if (fd < 0) {
                int e = Errno.of(st);
                throw new BpfException("open(" + path + ")", e, e == errno_h.ENOENT() ? missingHint : null);
            }
            try {
                MemorySegment buf = a.allocate(64 * 1024);
                long total = 0;
                while (total < buf.byteSize()) {
                    long n = Sys.read(fd, buf.asSlice(total));
                    if (n == -errno_h.EINTR()) {
                        continue;
                    }
                    if (n < 0) {
                        throw new BpfException("read(" + path + ")", (int) -n, null);
                    }
                    if (n == 0) {
                        break;
                    }
                    total += n;
                }
                return new String(buf.asSlice(0, total).toArray(ValueLayout.JAVA_BYTE), StandardCharsets.UTF_8);
            } finally {
                unistd_h.close(st, fd);
            }
        }
    }
}
