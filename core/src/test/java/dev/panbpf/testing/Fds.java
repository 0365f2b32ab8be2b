package dev.panbpf.testing;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** Fds lets tests make a second fd of a kernel object, close it, and check that fds they opened came back. */
public final class Fds {
    private Fds() { }

    private static final MethodHandle DUP;
    private static final MethodHandle CLOSE;

    static {
        Linker l = Linker.nativeLinker();
        DUP = l.downcallHandle(l.defaultLookup().find("dup").orElseThrow(),
                FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));
        CLOSE = l.downcallHandle(l.defaultLookup().find("close").orElseThrow(),
                FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));
    }

    /** dup(2): a second fd of the same open file (for a BPF map: the same map, another number). */
    public static int dup(int fd) throws Throwable {
        return (int) DUP.invokeExact(fd);
    }

    /** close(2), which must succeed. */
    public static void closeFd(int fd) throws Throwable {
        int r = (int) CLOSE.invokeExact(fd);
        assertEquals(0, r);
    }

    /** Waits up to 2 s for the process fd count to come back to {@code before}. */
    public static void assertFdsBackTo(int before) throws InterruptedException {
        long end = System.nanoTime() + 2_000_000_000L;
        while (Kernel.openFds() > before && System.nanoTime() < end) {
            Thread.sleep(10);
        }
        assertEquals(before, Kernel.openFds(), "leaked fds");
    }
}
