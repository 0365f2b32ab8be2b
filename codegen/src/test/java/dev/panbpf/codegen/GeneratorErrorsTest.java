package dev.panbpf.codegen;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** What the generator and the compiler say when they cannot do their job. */
class GeneratorErrorsTest {
    private static final Path TYPED = GeneratedSourcesTest.OBJECTS.resolve("typed_events.bpf.o");

    @Test
    void aNameClashNamesBothSides() {
        CodegenException e = assertThrows(CodegenException.class,
                () -> Generator.of(TYPED).className("NetEvent").generate());
        assertTrue(e.getMessage().contains("clash") && e.getMessage().contains("struct net_event")
                && e.getMessage().contains("skeleton class"), e.getMessage());
    }

    @Test
    void aStructNamedLikeATypeTheGeneratedCodeUsesIsAClash(@TempDir Path dir) throws Exception {
        Path c = dir.resolve("clash.bpf.c");
        Files.writeString(c, """
                #include <linux/bpf.h>
                #include <bpf/bpf_helpers.h>
                struct path { __u64 depth; };
                struct {
                    __uint(type, BPF_MAP_TYPE_ARRAY);
                    __uint(max_entries, 1);
                    __type(key, __u32);
                    __type(value, struct path);
                } paths SEC(".maps");
                char LICENSE[] SEC("license") = "GPL";
                """);
        Path o = dir.resolve("clash.bpf.o");
        BpfCompiler.of("clang", List.of(), List.of()).compile(c, o);
        CodegenException e = assertThrows(CodegenException.class, () -> Generator.of(o).generate());
        assertTrue(e.getMessage().contains("struct path") && e.getMessage().contains("'Path'"), e.getMessage());
    }

    /** With a typed perf reader the skeleton needs the name PerfBuffer itself, so a struct perf_buffer clashes. */
    @Test
    void aTypedPerfReaderWithAStructNamedPerfBufferIsAClash(@TempDir Path dir) throws Exception {
        Path c = dir.resolve("perf_clash.bpf.c");
        Files.writeString(c, """
                #include <linux/bpf.h>
                #include <bpf/bpf_helpers.h>
                #include "panbpf.bpf.h"
                struct perf_buffer { __u64 pages; };
                struct {
                    __uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
                    __uint(key_size, sizeof(__u32));
                    __uint(value_size, sizeof(__u32));
                } samples SEC(".maps") PANBPF_RECORDS(struct perf_buffer);
                PANBPF_KEEP(struct perf_buffer);
                char LICENSE[] SEC("license") = "GPL";
                """);
        Path o = dir.resolve("perf_clash.bpf.o");
        BpfCompiler.of("clang", List.of(), List.of(TestObjects.HEADER_DIR)).compile(c, o);
        CodegenException e = assertThrows(CodegenException.class, () -> Generator.of(o).generate());
        assertTrue(e.getMessage().contains("samples") && e.getMessage().contains("PerfBuffer"), e.getMessage());
    }

    @Test
    void aStructMissingFromBtfNamesTheRuleAndTheMacro() {
        CodegenException e = assertThrows(CodegenException.class,
                () -> Generator.of(TYPED).struct("only_a_local").generate());
        assertTrue(e.getMessage().contains("local variable") && e.getMessage().contains("PANBPF_KEEP(struct only_a_local)"),
                e.getMessage());
    }

    @Test
    void aMissingClangSaysHowToInstallIt(@TempDir Path dir) {
        CodegenException e = assertThrows(CodegenException.class, () -> BpfCompiler.of("/nonexistent/clang",
                List.of(), List.of()).compile(TestObjects.SOURCES.resolve("ring_events.bpf.c"), dir.resolve("x.o")));
        assertTrue(e.getMessage().contains("apt-get install clang"), e.getMessage());
    }

    /** A clang that hangs (a script sleeping in a child, as a driver runs cc1) is killed at the limit, child too. */
    @Test
    void aHungClangIsKilledAtTheTimeLimitWithAnErrorNamingIt(@TempDir Path dir) throws Exception {
        Path pids = dir.resolve("pids");
        Path clang = dir.resolve("clang");
        Files.writeString(clang, "#!/bin/sh\necho hanging\nsleep 600 &\necho $$ $! > '" + pids + "'\nwait\n");
        Files.setPosixFilePermissions(clang, PosixFilePermissions.fromString("rwx------"));
        BpfCompiler compiler = BpfCompiler.of(clang.toString(), List.of(), List.of())
                .withTimeout(Duration.ofSeconds(1));
        long t0 = System.nanoTime();
        CodegenException e = assertThrows(CodegenException.class,
                () -> compiler.compile(TestObjects.SOURCES.resolve("ring_events.bpf.c"), dir.resolve("x.o")));
        long millis = (System.nanoTime() - t0) / 1_000_000;
        assertTrue(millis < 10_000, "took " + millis + " ms");
        assertTrue(e.getMessage().contains("did not finish") && e.getMessage().contains("in 1 s")
                && e.getMessage().contains(clang.toString()) && e.getMessage().contains("ring_events.bpf.c"),
                e.getMessage());
        for (String pid : Files.readString(pids).trim().split(" ")) {
            long end = System.nanoTime() + 2_000_000_000L;
            while (ProcessHandle.of(Long.parseLong(pid)).map(ProcessHandle::isAlive).orElse(false)
                    && System.nanoTime() < end) {
                Thread.sleep(10);
            }
            assertFalse(ProcessHandle.of(Long.parseLong(pid)).map(ProcessHandle::isAlive).orElse(false),
                    "process " + pid + " of the fake clang still runs");
        }
    }

    @Test
    void aSyntaxErrorReportsTheCompilersMessage(@TempDir Path dir) throws Exception {
        Path c = dir.resolve("broken.bpf.c");
        Files.writeString(c, "int broken(void) { return 1 }\n");
        CodegenException e = assertThrows(CodegenException.class,
                () -> BpfCompiler.of("clang", List.of(), List.of()).compile(c, dir.resolve("broken.bpf.o")));
        assertTrue(e.getMessage().contains("expected ';'") && e.getMessage().contains("broken.bpf.c:1"),
                e.getMessage());
    }
}
