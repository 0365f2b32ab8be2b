package dev.panbpf.bench;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * LibbpfDrain is libbpf's own ring buffer or perf buffer consumer (benchmarks/src/main/c/libbpf_drain.c, built
 * by gcc into the jar) on one map: the baseline the Java consumers are measured against. One downcall per drain;
 * libbpf then calls a plain C callback per record, so no record crosses into Java.
 */
final class LibbpfDrain implements AutoCloseable {
    private static final MethodHandle RING_OPEN;
    private static final MethodHandle RING_DRAIN;
    private static final MethodHandle RING_POLL_FOR;
    private static final MethodHandle RING_SUM;
    private static final MethodHandle RING_CLOSE;
    private static final MethodHandle PERF_OPEN;
    private static final MethodHandle PERF_DRAIN;
    private static final MethodHandle PERF_LOST;
    private static final MethodHandle PERF_SUM;
    private static final MethodHandle PERF_CLOSE;
    private static final MethodHandle PERF_OPEN_WAKEUP;
    private static final MethodHandle PERF_POLL_FOR;
    private static final MethodHandle PERF_PAGE;

    static {
        SymbolLookup lib = SymbolLookup.libraryLookup(extract(), Arena.global());
        Linker linker = Linker.nativeLinker();
        FunctionDescriptor handleToLong = FunctionDescriptor.of(JAVA_LONG, ADDRESS);
        FunctionDescriptor close = FunctionDescriptor.ofVoid(ADDRESS);
        RING_OPEN = linker.downcallHandle(find(lib, "ring_open"), FunctionDescriptor.of(ADDRESS, JAVA_INT, JAVA_INT));
        RING_DRAIN = linker.downcallHandle(find(lib, "ring_drain"), handleToLong);
        RING_POLL_FOR = linker.downcallHandle(find(lib, "ring_poll_for"),
                FunctionDescriptor.of(JAVA_LONG, ADDRESS, JAVA_LONG, JAVA_INT, JAVA_LONG, ADDRESS));
        RING_SUM = linker.downcallHandle(find(lib, "ring_sum"), handleToLong);
        RING_CLOSE = linker.downcallHandle(find(lib, "ring_close"), close);
        PERF_OPEN = linker.downcallHandle(find(lib, "perf_open"),
                FunctionDescriptor.of(ADDRESS, JAVA_INT, JAVA_INT, JAVA_INT));
        PERF_DRAIN = linker.downcallHandle(find(lib, "perf_drain"), handleToLong);
        PERF_OPEN_WAKEUP = linker.downcallHandle(find(lib, "perf_open_wakeup"),
                FunctionDescriptor.of(ADDRESS, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT));
        PERF_POLL_FOR = linker.downcallHandle(find(lib, "perf_poll_for"),
                FunctionDescriptor.of(JAVA_LONG, ADDRESS, JAVA_LONG, JAVA_INT, JAVA_LONG, ADDRESS));
        PERF_LOST = linker.downcallHandle(find(lib, "perf_lost"), handleToLong);
        PERF_SUM = linker.downcallHandle(find(lib, "perf_sum"), handleToLong);
        PERF_CLOSE = linker.downcallHandle(find(lib, "perf_close"), close);
        PERF_PAGE = linker.downcallHandle(find(lib, "perf_page"), FunctionDescriptor.of(ADDRESS, ADDRESS, JAVA_INT));
    }

    private static MemorySegment find(SymbolLookup lib, String name) {
        return lib.find(name).orElseThrow(() -> new IllegalStateException("libbpf_drain.so has no " + name));
    }

    private final MemorySegment handle;
    private final boolean ring;

    private LibbpfDrain(MemorySegment handle, boolean ring) {
        this.handle = handle;
        this.ring = ring;
    }

    /** Opens libbpf's ring buffer consumer on the BPF_MAP_TYPE_RINGBUF {@code mapFd}, records of {@code size}. */
    static LibbpfDrain ring(int mapFd, int size) {
        try {
            return new LibbpfDrain(check((MemorySegment) RING_OPEN.invokeExact(mapFd, size), "ring_buffer__new"),
                    true);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** Opens libbpf's perf buffer consumer on the PERF_EVENT_ARRAY {@code mapFd}, {@code pages} per CPU. */
    /** libbpf's perf consumer with the perf events' wakeup_events set to {@code wakeup} (perf_buffer__new_raw). */
    static LibbpfDrain perf(int mapFd, int pages, int size, int wakeup) {
        try {
            return new LibbpfDrain(check((MemorySegment) PERF_OPEN_WAKEUP.invokeExact(mapFd, pages, size, wakeup),
                    "perf_buffer__new_raw"), false);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static LibbpfDrain perf(int mapFd, int pages, int size) {
        try {
            return new LibbpfDrain(check((MemorySegment) PERF_OPEN.invokeExact(mapFd, pages, size),
                    "perf_buffer__new"), false);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** Consumes everything available with ring_buffer__consume / perf_buffer__consume; returns the record count. */
    long drain() {
        long n;
        try {
            n = ring ? (long) RING_DRAIN.invokeExact(handle) : (long) PERF_DRAIN.invokeExact(handle);
        } catch (Throwable t) {
            throw rethrow(t);
        }
        if (n < 0) {
            throw new IllegalStateException((ring ? "ring_buffer__consume" : "perf_buffer__consume")
                    + " failed with " + n);
        }
        return n;
    }

    /**
     * Polls with ring_buffer__poll (or perf_buffer__poll), each call waiting at most {@code timeoutMillis}, for
     * {@code nanos} of wall time, all in C, sleeping {@code delayMicros} after each poll that delivered (0: never);
     * returns {records, CPU nanoseconds the calling thread spent}.
     */
    long[] pollFor(long nanos, int timeoutMillis, long delayMicros) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment cpu = arena.allocate(JAVA_LONG);
            long n = ring ? (long) RING_POLL_FOR.invokeExact(handle, nanos, timeoutMillis, delayMicros, cpu)
                    : (long) PERF_POLL_FOR.invokeExact(handle, nanos, timeoutMillis, delayMicros, cpu);
            if (n < 0) {
                throw new IllegalStateException((ring ? "ring_buffer__poll" : "perf_buffer__poll") + " failed with " + n);
            }
            return new long[] {n, cpu.get(JAVA_LONG, 0)};
        } catch (RuntimeException e) {
            throw e;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** What the C callback summed over every record so far: first 8 bytes plus the program's last byte. */
    long sum() {
        try {
            return ring ? (long) RING_SUM.invokeExact(handle) : (long) PERF_SUM.invokeExact(handle);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** Events the kernel reported lost to the perf consumer (0 for a ring). */
    long lost() {
        try {
            return ring ? 0 : (long) PERF_LOST.invokeExact(handle);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** The metadata page (perf_event_mmap_page, 4 KiB) of libbpf's perf buffer for CPU {@code cpu}. */
    MemorySegment perfPage(int cpu) {
        try {
            MemorySegment p = check((MemorySegment) PERF_PAGE.invokeExact(handle, cpu), "perf_buffer__buffer");
            return p.reinterpret(4096);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    @Override
    public void close() {
        try {
            if (ring) {
                RING_CLOSE.invokeExact(handle);
            } else {
                PERF_CLOSE.invokeExact(handle);
            }
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    private static MemorySegment check(MemorySegment handle, String what) {
        if (handle.address() == 0) {
            throw new IllegalStateException(what + " failed (libbpf printed why on stderr)");
        }
        return handle;
    }

    private static RuntimeException rethrow(Throwable t) {
        if (t instanceof RuntimeException r) {
            throw r;
        }
        if (t instanceof Error e) {
            throw e;
        }
        return new IllegalStateException(t);
    }

    /** Copies the library out of the jar into a temporary file, since dlopen needs a path. */
    private static Path extract() {
        try (InputStream in = LibbpfDrain.class.getResourceAsStream("libbpf_drain.so")) {
            if (in == null) {
                throw new IllegalStateException("libbpf_drain.so is missing from the jar; build it with mvn package");
            }
            Path file = Files.createTempFile("panbpf-libbpf-drain", ".so");
            file.toFile().deleteOnExit();
            Files.copy(in, file, StandardCopyOption.REPLACE_EXISTING);
            return file;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
