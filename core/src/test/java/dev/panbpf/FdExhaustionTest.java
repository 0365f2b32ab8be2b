package dev.panbpf;

import dev.panbpf.testing.Isolation;
import dev.panbpf.testing.Kernel;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.channels.SeekableByteChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Running out of file descriptors is reported as EMFILE with the fd limit as the fix, wherever it happens: while
 * libbpf probes, creates maps, or after the verifier accepted a program (not as a verifier rejection).
 *
 * <p>The soft RLIMIT_NOFILE of this (forked test) JVM is lowered for the duration of one call and restored in a
 * finally block; fds are handed out lowest first, so a limit a few above the highest open fd leaves a few free.
 */
class FdExhaustionTest {
    private static final int RLIMIT_NOFILE = 7;
    private static final Linker LINKER = Linker.nativeLinker();
    private static final MethodHandle GETRLIMIT = rlimitCall("getrlimit");
    private static final MethodHandle SETRLIMIT = rlimitCall("setrlimit");

    private static MethodHandle rlimitCall(String name) {
        return LINKER.downcallHandle(LINKER.defaultLookup().find(name).orElseThrow(),
                FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.ADDRESS));
    }

    @BeforeAll
    static void root() {
        Kernel.requireRoot();
    }

    /** Runs {@code call} with the soft fd limit at {@code limit}, restoring the old limits afterwards. */
    private static <T> T withFdLimit(long limit, Supplier<T> call) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment old = a.allocate(16);
            MemorySegment low = a.allocate(16);
            rlimit(GETRLIMIT, old);
            low.set(ValueLayout.JAVA_LONG, 0, limit);
            low.set(ValueLayout.JAVA_LONG, 8, old.get(ValueLayout.JAVA_LONG, 8));
            rlimit(SETRLIMIT, low);
            try {
                return call.get();
            } finally {
                rlimit(SETRLIMIT, old);
            }
        }
    }

    /** getrlimit or setrlimit of RLIMIT_NOFILE with {@code struct rlimit { rlim_t cur, max; }}. */
    private static void rlimit(MethodHandle call, MemorySegment limits) {
        int r;
        try {
            r = (int) call.invokeExact(RLIMIT_NOFILE, limits);
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
        assertEquals(0, r, "getrlimit/setrlimit(RLIMIT_NOFILE)");
    }

    private static long highestOpenFd() throws IOException {
        try (var s = Files.list(Path.of("/proc/self/fd"))) {
            return s.mapToLong(p -> Long.parseLong(p.getFileName().toString())).max().orElseThrow();
        }
    }

    private static void assertNamesEmfile(BpfException e, String... words) {
        assertFalse(e instanceof BpfVerifierException, "not a verifier rejection: " + e.getMessage());
        assertEquals("EMFILE", e.errnoName(), e.getMessage());
        assertTrue(e.getMessage().contains("raise the fd limit (ulimit -n"), e.getMessage());
        for (String w : words) {
            assertTrue(e.getMessage().contains(w), "'" + w + "' missing from: " + e.getMessage());
        }
    }

    @Test
    void outOfFdsAfterTheVerifierIsReportedAsEmfileNotAsARejection() throws IOException {
        // One load with fds to spare first: libbpf caches its kernel feature probes for the whole process, and a
        // probe that failed for lack of fds would be remembered as a missing feature. Failed loads of both kinds
        // load the classes of the failure paths: without fds, loading a class file would fail.
        BpfObject.openResource("dev/panbpf/bpf/queue.bpf.o").load().close();
        try (BpfObject bad = BpfObject.openResource("dev/panbpf/bpf/bad_verifier.bpf.o")) {
            assertThrows(BpfVerifierException.class, bad::load);
        }
        assertInstanceOf(BpfException.class, Isolation.withoutCapabilities(
                () -> BpfObject.openResource("dev/panbpf/bpf/queue.bpf.o").load()));
        int fds = Kernel.openFds();
        List<BpfException> failures = new ArrayList<>();
        boolean loaded = false;
        for (int spare = 0; spare < 64 && !loaded; spare++) {
            try (BpfObject obj = BpfObject.openResource("dev/panbpf/bpf/queue.bpf.o")) {
                // from the count, not the highest number: a long-lived fd (the virtual-thread poller's epoll) may sit
                // above free numbers, which a limit of highest + 1 would leave to the load
                BpfException e = withFdLimit(Kernel.openFds() + spare, () -> {
                    try {
                        obj.load();
                        return null;
                    } catch (BpfException failure) {
                        return failure;
                    }
                });
                if (e == null) {
                    loaded = true;
                    assertEquals(64, obj.map("values").maxEntries(), "and the object works");
                } else {
                    failures.add(e);
                }
            }
        }
        assertTrue(loaded, "queue.bpf.o never loaded: " + failures);
        assertFalse(failures.isEmpty(), "no fd limit was low enough to fail");
        for (BpfException e : failures) {
            assertNamesEmfile(e, "queue");
        }
        // With fds for the maps but none for a program, the kernel verified it, then had no fd to give it.
        assertTrue(failures.stream().anyMatch(e -> e.getMessage().contains("program 'push_values'")),
                "no failure named the program: " + failures);
        assertTrue(failures.stream().anyMatch(e -> e.getMessage().contains("load of map 'queue.")),
                "no failure named the map it could not create: " + failures);
        assertEquals(fds, Kernel.openFds(), "no fd leaked by the failed loads");
    }

    @Test
    void mapCreateOutOfFdsNamesEmfile() throws IOException {
        // The failure path once with fds to spare, so that its classes are loaded (EINVAL: 0-byte keys). The
        // perf_event_open side is PerfBufferFdLimitTest's, through the public PerfBuffer.
        assertThrows(BpfException.class, () -> BpfMap.create(MapType.HASH, 0, 4, 1, 0, "no_fd"));
        List<SeekableByteChannel> filler = new ArrayList<>();
        int fds = Kernel.openFds();
        try {
            BpfException[] seen = withFdLimit(highestOpenFd() + 1, () -> {
                // Fill the holes below the limit, so that the next fd is past it.
                try {
                    while (true) {
                        filler.add(Files.newByteChannel(Path.of("/dev/null")));
                    }
                } catch (IOException full) {
                    assertTrue(full.getMessage().contains("Too many open files"), full.getMessage());
                }
                return new BpfException[] {
                    assertThrows(BpfException.class, () -> BpfMap.create(MapType.HASH, 4, 4, 1, 0, "no_fd")),
                };
            });
            assertNamesEmfile(seen[0], "'no_fd'", "BPF_MAP_CREATE");
        } finally {
            for (SeekableByteChannel c : filler) {
                c.close();
            }
        }
        assertEquals(fds, Kernel.openFds());
    }
}
