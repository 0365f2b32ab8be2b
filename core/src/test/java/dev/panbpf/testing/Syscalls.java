package dev.panbpf.testing;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;

/** Syscalls gives tests the few libc calls they make to cause kernel events or change their own thread. */
public final class Syscalls {
    private Syscalls() { }

    private static final Linker LINKER = Linker.nativeLinker();
    private static final MethodHandle GETPID = handle("getpid", FunctionDescriptor.of(ValueLayout.JAVA_INT));
    private static final MethodHandle GETTID = handle("gettid", FunctionDescriptor.of(ValueLayout.JAVA_INT));
    private static final MethodHandle UNSHARE = handle("unshare",
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));
    private static final MethodHandle MOUNT = handle("mount", FunctionDescriptor.of(ValueLayout.JAVA_INT,
            ValueLayout.ADDRESS, ValueLayout.ADDRESS, ValueLayout.ADDRESS, ValueLayout.JAVA_LONG, ValueLayout.ADDRESS));
    private static final MethodHandle UMOUNT2 = handle("umount2",
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT));
    private static final MethodHandle CAPGET = handle("capget",
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.ADDRESS));
    private static final MethodHandle CAPSET = handle("capset",
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.ADDRESS));

    private static MethodHandle handle(String name, FunctionDescriptor d) {
        return LINKER.downcallHandle(LINKER.defaultLookup().find(name).orElseThrow(), d);
    }

    /** getpid(2): one syscall each time (glibc does not cache it), which fires sys_enter_getpid. */
    public static int getpid() {
        try {
            return (int) GETPID.invokeExact();
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /** gettid(2): the kernel's id of the calling thread. */
    public static int gettid() {
        try {
            return (int) GETTID.invokeExact();
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    static int unshare(int flags) throws Throwable {
        return (int) UNSHARE.invokeExact(flags);
    }

    static int mount(MemorySegment source, MemorySegment target, MemorySegment type, long flags) throws Throwable {
        return (int) MOUNT.invokeExact(source, target, type, flags, MemorySegment.NULL);
    }

    static int umount2(MemorySegment target, int flags) throws Throwable {
        return (int) UMOUNT2.invokeExact(target, flags);
    }

    static int capget(MemorySegment header, MemorySegment data) throws Throwable {
        return (int) CAPGET.invokeExact(header, data);
    }

    static int capset(MemorySegment header, MemorySegment data) throws Throwable {
        return (int) CAPSET.invokeExact(header, data);
    }
}
