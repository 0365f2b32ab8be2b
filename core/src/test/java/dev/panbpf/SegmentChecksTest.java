package dev.panbpf;

import dev.panbpf.internal.Sys;
import dev.panbpf.testing.Kernel;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Before a segment's address goes to the kernel, map operations and test runs check that its memory is still
 * there, that the kernel may write it when it writes, and its size; and they keep it alive during the call.
 */
class SegmentChecksTest {
    @BeforeAll
    static void root() {
        Kernel.requireRoot();
    }

    private static <T extends Throwable> T assertRefused(Class<T> type, Executable call, String... words) {
        T e = assertThrows(type, call);
        for (String w : words) {
            assertTrue(e.getMessage().contains(w), "'" + w + "' missing from: " + e.getMessage());
        }
        return e;
    }

    @Test
    void lookupIntoAClosedSegmentIsRefusedNamingTheMap() {
        try (BpfMap map = BpfMap.create(MapType.ARRAY, 4, 4096, 1, 0, "big_values"); Arena a = Arena.ofConfined()) {
            MemorySegment key = a.allocateFrom(ValueLayout.JAVA_INT, 0);
            MemorySegment value;
            try (Arena gone = Arena.ofConfined()) {
                value = gone.allocate(4096);
            }
            MemorySegment closedValue = value;
            assertRefused(IllegalStateException.class, () -> map.lookup(key, closedValue),
                    "'big_values'", "value", "closed");
            MemorySegment closedKey;
            try (Arena gone = Arena.ofConfined()) {
                closedKey = gone.allocate(4);
            }
            assertRefused(IllegalStateException.class, () -> map.update(closedKey, a.allocate(4096)),
                    "'big_values'", "key", "closed");
            assertRefused(IllegalStateException.class, () -> map.delete(closedKey), "'big_values'", "key");
            assertTrue(map.lookup(key, a.allocate(4096)), "an open segment still works");
        }
    }

    @Test
    void readOnlySegmentsAreRefusedWhereTheKernelWrites() {
        try (BpfMap hash = BpfMap.create(MapType.HASH, 4, 8, 4, 0, "ro_hash");
             BpfMap queue = BpfMap.create(MapType.QUEUE, 0, 8, 4, 0, "ro_queue");
             Arena a = Arena.ofConfined()) {
            MemorySegment key = a.allocateFrom(ValueLayout.JAVA_INT, 1).asReadOnly();
            MemorySegment value = a.allocateFrom(ValueLayout.JAVA_LONG, 5).asReadOnly();
            hash.update(key, value);                      // the kernel only reads these: fine
            queue.push(value);
            MemorySegment readOnly = a.allocate(8).asReadOnly();
            assertRefused(IllegalArgumentException.class, () -> hash.lookup(key, readOnly),
                    "'ro_hash'", "value segment is read-only", "writable");
            assertRefused(IllegalArgumentException.class, () -> queue.peek(readOnly), "'ro_queue'", "read-only");
            assertRefused(IllegalArgumentException.class, () -> queue.pop(readOnly), "'ro_queue'", "read-only");
            assertEquals(0L, readOnly.get(ValueLayout.JAVA_LONG, 0), "the kernel wrote nothing into it");
            assertEquals(5L, queue.popLong(), "the refused pop took nothing");
            assertEquals(5L, hash.lookupLong(1));
        }
    }

    @Test
    void segmentsOfAnotherThreadsArenaAreRefused() throws Exception {
        try (BpfMap map = BpfMap.create(MapType.ARRAY, 4, 8, 1, 0, "threads"); Arena a = Arena.ofConfined()) {
            MemorySegment key = a.allocateFrom(ValueLayout.JAVA_INT, 0);
            MemorySegment value = a.allocate(8);
            Object t = CompletableFuture.<Object>supplyAsync(() -> {
                try {
                    return map.lookup(key, value);
                } catch (Throwable e) {
                    return e;
                }
            }).get();
            assertInstanceOf(WrongThreadException.class, t);
            assertTrue(((Throwable) t).getMessage().contains("'threads'"), ((Throwable) t).getMessage());
        }
    }

    @Test
    void anArenaClosedByAnotherThreadDuringLookupsIsNeverWrittenByTheKernel() throws Exception {
        try (BpfMap map = BpfMap.create(MapType.ARRAY, 4, 4096, 1, 0, "race"); Arena keys = Arena.ofShared()) {
            MemorySegment key = keys.allocateFrom(ValueLayout.JAVA_INT, 0);
            for (int round = 0; round < 200; round++) {
                Arena values = Arena.ofShared();
                MemorySegment value = values.allocate(4096);
                CountDownLatch started = new CountDownLatch(1);
                AtomicReference<Throwable> ended = new AtomicReference<>();
                Thread looker = new Thread(() -> {
                    started.countDown();
                    try {
                        while (true) {
                            map.lookup(key, value);
                        }
                    } catch (Throwable t) {
                        ended.set(t);
                    }
                });
                looker.start();
                started.await();
                // A lookup in flight holds the arena: close() then fails, and is retried until it is not.
                while (values.scope().isAlive()) {
                    try {
                        values.close();
                    } catch (IllegalStateException inUse) {
                        Thread.onSpinWait();
                    }
                }
                looker.join();
                assertInstanceOf(IllegalStateException.class, ended.get(), "round " + round);
            }
        }
    }

    @Test
    void testRunChecksItsSegmentsBeforeTheKernelSeesThem() {
        try (BpfObject obj = BpfObject.openResource("dev/panbpf/bpf/queue.bpf.o").load()) {
            BpfProgram push = obj.program("push_values");
            MemorySegment closed;
            try (Arena gone = Arena.ofConfined()) {
                closed = gone.allocate(64);
            }
            MemorySegment packet = closed;
            assertRefused(IllegalStateException.class, () -> push.testRun(packet, 1), "'push_values'", "closed");
            try (Arena a = Arena.ofConfined()) {
                // The kernel takes a u32 size: a bigger segment must not be cut down to its low 32 bits.
                MemorySegment huge = a.allocate(64).reinterpret((1L << 32) + 64);
                assertRefused(IllegalArgumentException.class, () -> push.testRun(huge, 1), "'push_values'",
                        "bytes");
                assertEquals(2, push.testRun(a.allocate(64).asReadOnly(), 1).retval(), "XDP_PASS; data is read");
            }
        }
    }

    @Test
    void syscallProgramContextIsWrittenBackAndMustBeWritable() {
        try (BpfObject obj = BpfObject.openResource("dev/panbpf/bpf/test_run_ctx.bpf.o").load();
             Arena a = Arena.ofConfined()) {
            BpfProgram bump = obj.program("bump");
            MemorySegment ctx = a.allocate(16);
            ctx.set(ValueLayout.JAVA_LONG, 0, 41);
            assertEquals(41, bump.testRun(MemorySegment.NULL, ctx, 1, -1).retval());
            assertEquals(42, ctx.get(ValueLayout.JAVA_LONG, 8), "the kernel copied the context back");
            MemorySegment readOnly = a.allocate(16).asReadOnly();
            assertRefused(IllegalArgumentException.class, () -> bump.testRun(MemorySegment.NULL, readOnly, 1, -1),
                    "'bump'", "context segment is read-only", "writable");
            assertEquals(0L, readOnly.get(ValueLayout.JAVA_LONG, 8));
            assertRefused(IllegalArgumentException.class, () -> bump.testRun(MemorySegment.NULL, ctx, 5, -1),
                    "'bump'", "repeat 1");
            assertRefused(IllegalArgumentException.class, () -> bump.testRun(new byte[8]), "'bump'", "context alone");
        }
    }

    @Test
    void readIntoAReadOnlySegmentIsRefused() {
        int efd = Sys.eventfd();
        try (Arena a = Arena.ofConfined()) {
            assertEquals(8, Sys.write(efd, a.allocateFrom(ValueLayout.JAVA_LONG, 3)));
            MemorySegment readOnly = a.allocate(8).asReadOnly();
            assertRefused(IllegalArgumentException.class, () -> Sys.read(efd, readOnly), "read-only", "writable");
            assertEquals(0L, readOnly.get(ValueLayout.JAVA_LONG, 0));
            MemorySegment counter = a.allocate(8);
            assertEquals(8, Sys.read(efd, counter));
            assertEquals(3L, counter.get(ValueLayout.JAVA_LONG, 0), "the refused read consumed nothing");
        } finally {
            Sys.close(efd);
        }
    }
}
