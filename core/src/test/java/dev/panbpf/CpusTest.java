package dev.panbpf;

import dev.panbpf.internal.Sys;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/** Cpus: the kernel's CPU lists, pinning a thread, and the page size, checked against what the kernel reports. */
class CpusTest {
    @Test
    void aPinnedThreadRunsOnlyOnItsCpu() throws Exception {
        for (int cpu : Cpus.online()) {
            int seen = CompletableFuture.supplyAsync(() -> {
                Cpus.pinCurrentThread(cpu);
                Thread.yield();
                return Sys.currentCpu();
            }).get(5, TimeUnit.SECONDS);
            assertEquals(cpu, seen);
        }
    }

    @Test
    void aCpuThatIsNotThereIsRefusedWithTheErrno() {
        int absent = Cpus.possible().getLast() + 1;
        // Refused, so this thread's affinity stays as it was.
        BpfException e = assertThrows(BpfException.class, () -> Cpus.pinCurrentThread(absent));
        assertEquals("EINVAL", e.errnoName(), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Cpus.pinCurrentThread(-1));
    }

    @Test
    void thePageSizeIsTheKernels() throws Exception {
        // The aux vector's AT_PAGESZ (6) is what the kernel told this process.
        byte[] auxv = Files.readAllBytes(Path.of("/proc/self/auxv"));
        long page = 0;
        for (int i = 0; i + 16 <= auxv.length; i += 16) {
            long key = java.nio.ByteBuffer.wrap(auxv, i, 8).order(java.nio.ByteOrder.nativeOrder()).getLong();
            if (key == 6) {
                page = java.nio.ByteBuffer.wrap(auxv, i + 8, 8).order(java.nio.ByteOrder.nativeOrder()).getLong();
            }
        }
        assertEquals(page, Cpus.pageSize());
        assertTrue(List.of(4096L, 16384L, 65536L).contains(Cpus.pageSize()));
    }
}
