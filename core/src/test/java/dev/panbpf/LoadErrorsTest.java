package dev.panbpf;

import dev.panbpf.bpf.BpfPrograms;
import dev.panbpf.testing.Isolation;
import dev.panbpf.testing.Kernel;
import dev.panbpf.testing.Syscalls;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** Every kind of bad input to loading and attaching ends in an exception that names the problem and the fix. */
class LoadErrorsTest {
    @BeforeAll
    static void root() {
        Kernel.requireRoot();
    }

    private static void assertMentions(Throwable e, String... words) {
        assertNotNull(e, "expected a failure");
        for (String w : words) {
            assertTrue(e.getMessage().contains(w), "'" + w + "' missing from: " + e.getMessage());
        }
    }

    @Test
    void verifierRejectionCarriesTheWholeVerifierLog() {
        try (BpfObject obj = BpfObject.openResource("dev/panbpf/bpf/bad_verifier.bpf.o")) {
            BpfVerifierException e = assertThrows(BpfVerifierException.class, obj::load);
            assertEquals("reads_past_packet", e.program());
            assertEquals("EACCES", e.errnoName());
            // The log is longer than the first formatting attempt, so it took the second pass through vsnprintf.
            assertTrue(e.verifierLog().length() > 2048, "log of " + e.verifierLog().length() + " chars");
            assertTrue(e.verifierLog().startsWith("0: "), e.verifierLog());
            assertTrue(e.verifierLog().contains("invalid access to packet"), e.verifierLog());
            assertMentions(e, "reads_past_packet", "invalid access to packet", "verifier");
            assertMentions(assertThrows(BpfException.class, obj::load), "close it and open it again");
        }
    }

    @Test
    void missingFileAndNonElfFilesAreNamed(@TempDir Path dir) throws IOException {
        assertMentions(assertThrows(BpfException.class, () -> BpfObject.open(dir.resolve("gone.bpf.o"))),
                "no such file", "gone.bpf.o");
        Path text = Files.writeString(dir.resolve("notes.bpf.o"), "just text, not a program\n");
        assertMentions(assertThrows(BpfException.class, () -> BpfObject.open(text)), "not an ELF file", "clang");
        Path empty = Files.write(dir.resolve("empty.o"), new byte[0]);
        assertMentions(assertThrows(BpfException.class, () -> BpfObject.open(empty)), "empty");
        Path host = Path.of("/bin/true").toRealPath();
        assertMentions(assertThrows(BpfException.class, () -> BpfObject.open(host)), "machine 62", "-target bpf");
        assertMentions(assertThrows(BpfException.class, () -> BpfObject.open(dir)), "not a regular file");
        assertMentions(assertThrows(BpfException.class, () -> BpfObject.openResource("dev/panbpf/bpf/gone.bpf.o")),
                "gone.bpf.o", "class path");
    }

    @Test
    void unknownMapOrProgramNamesListTheOnesThatExist() {
        try (BpfObject obj = BpfObject.open(BpfPrograms.bytes("producer.bpf.o"), "producer")) {
            assertMentions(assertThrows(BpfException.class, () -> obj.program("consume")), "consume", "produce");
            assertMentions(assertThrows(BpfException.class, () -> obj.map("count")), "count", "counters", "rb");
            assertMentions(assertThrows(BpfException.class, () -> obj.map("counters")), "load()");
            assertMentions(assertThrows(BpfException.class, () -> obj.program("produce").testRun(new byte[64])),
                    "not loaded");
            assertMentions(assertThrows(IllegalArgumentException.class, () -> obj.setMaxEntries("rb", 5000)),
                    "power of two");
            obj.setMaxEntries("rb", 1 << 20);
            obj.load();
            assertEquals(1 << 20, obj.map("rb").maxEntries());
            assertMentions(assertThrows(BpfException.class, () -> obj.setMaxEntries("rb", 4096)), "already loaded");
        }
    }

    @Test
    void attachingWhatLibbpfCannotAttachSaysHow() {
        try (BpfObject obj = BpfObject.open(BpfPrograms.bytes("producer.bpf.o"), "producer").load()) {
            BpfProgram produce = obj.program("produce");
            assertMentions(assertThrows(BpfException.class, produce::attach), "EOPNOTSUPP", "attachXdp");
            assertMentions(assertThrows(BpfException.class, () -> produce.attachXdp("no-such-if0")),
                    "no-such-if0", "ip link");
            assertMentions(assertThrows(BpfException.class, () -> produce.testRun(new byte[4])), "14 bytes");
        }
        try (BpfObject obj = BpfObject.openResource("dev/panbpf/bpf/syscalls.bpf.o").load()) {
            assertMentions(assertThrows(BpfException.class, () -> obj.program("count_getpid").attachXdp(1)),
                    "attachXdp needs an XDP program");
        }
    }

    @Test
    void missingTracefsIsNamedWithTheMountCommand() {
        Kernel.requireTracefs();
        try (BpfObject obj = BpfObject.openResource("dev/panbpf/bpf/syscalls.bpf.o")) {
            obj.setGlobal("target_tid", Syscalls.gettid()).load();
            Throwable e = Isolation.withoutTracefs(() -> obj.program("count_getpid").attach());
            assertInstanceOf(BpfException.class, e);
            assertMentions(e, "ENOENT", "tracefs is not mounted", "mount -t tracefs nodev /sys/kernel/tracing");
            // Only that thread lost tracefs: here the same program attaches.
            obj.program("count_getpid").attach().close();
        }
    }

    /**
     * With tracefs mounted and readable, a tracepoint (or raw tracepoint) the kernel lacks is named as missing, with
     * where to look, and not blamed on tracefs or privileges: libbpf's ENOENT here comes from the id file missing.
     */
    @Test
    void aTracepointTheKernelLacksIsNamedNotBlamedOnTracefs(@TempDir Path dir) throws Exception {
        Kernel.requireTracefs();
        Files.writeString(dir.resolve("missing_tp.bpf.c"), """
                #include <linux/bpf.h>
                #include <bpf/bpf_helpers.h>
                SEC("tp/panbpf_nosuch/nosuch_event") int on_missing(void *ctx) { return 0; }
                SEC("raw_tp/panbpf_nosuch_event") int on_missing_raw(void *ctx) { return 0; }
                char LICENSE[] SEC("license") = "GPL";
                """);
        String arch = System.getProperty("os.arch").equals("aarch64") ? "aarch64" : "x86_64";
        Process clang;
        try {
            clang = new ProcessBuilder("clang", "-O2", "-g", "-target", "bpf", "-I/usr/include/" + arch + "-linux-gnu",
                    "-c", "missing_tp.bpf.c", "-o", "missing_tp.bpf.o").directory(dir.toFile())
                    .redirectErrorStream(true).redirectOutput(dir.resolve("clang.log").toFile()).start();
        } catch (IOException e) {
            Kernel.require(false, "clang, to build a program for a missing tracepoint (" + e.getMessage() + ")");
            return;
        }
        assertTrue(clang.waitFor(2, java.util.concurrent.TimeUnit.MINUTES), "clang timed out");
        assertEquals(0, clang.exitValue(), Files.readString(dir.resolve("clang.log")));
        try (BpfObject obj = BpfObject.open(dir.resolve("missing_tp.bpf.o")).load()) {
            BpfException tp = assertThrows(BpfException.class, () -> obj.program("on_missing").attach());
            assertEquals("ENOENT", tp.errnoName(), tp.getMessage());
            assertMentions(tp, "on_missing", "the kernel has no tracepoint 'panbpf_nosuch/nosuch_event'",
                    "/sys/kernel/tracing/available_events");
            BpfException raw = assertThrows(BpfException.class, () -> obj.program("on_missing_raw").attach());
            assertEquals("ENOENT", raw.errnoName(), raw.getMessage());
            assertMentions(raw, "the kernel has no raw tracepoint 'panbpf_nosuch_event'");
            for (BpfException e : List.of(tp, raw)) {
                for (String misleading : List.of("not mounted", "cannot read", "run as root", "CAP_")) {
                    assertFalse(e.getMessage().contains(misleading), "'" + misleading + "' in: " + e.getMessage());
                }
            }
        }
    }

    @Test
    void missingPrivilegesAreNamed() {
        // Load once with privileges first, so that libbpf's process-wide feature probes are answered truthfully.
        BpfObject.openResource("dev/panbpf/bpf/queue.bpf.o").load().close();
        Throwable e = Isolation.withoutCapabilities(() -> {
            try (BpfObject obj = BpfObject.openResource("dev/panbpf/bpf/queue.bpf.o")) {
                return obj.load();
            }
        });
        assertInstanceOf(BpfException.class, e);
        assertEquals("EPERM", ((BpfException) e).errnoName(), e.getMessage());
        assertMentions(e, "run as root", "CAP_BPF");
    }

    @Test
    void closedObjectsRefuseUseAndTheirMapsAndProgramsToo() {
        BpfObject obj = BpfObject.openResource("dev/panbpf/bpf/queue.bpf.o").load();
        BpfMap values = obj.map("values");
        BpfProgram push = obj.program("push_values");
        obj.close();
        obj.close();
        assertTrue(obj.isClosed());
        assertMentions(assertThrows(BpfException.class, () -> obj.map("values")), "closed");
        assertMentions(assertThrows(BpfException.class, () -> values.push(1L)), "closed");
        assertMentions(assertThrows(BpfException.class, () -> push.testRun(new byte[64])), "closed");
    }
}
