package dev.panbpf.maven;

import dev.panbpf.codegen.CodegenException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The generate goal's work: compile, generate, and nothing again while nothing changed. */
class BpfBuildTest {
    private static final String SOURCE = """
            #include <linux/bpf.h>
            #include <bpf/bpf_helpers.h>
            #include "panbpf.bpf.h"

            struct hello_event { __u64 n; };
            PANBPF_KEEP(struct hello_event);

            struct {
                __uint(type, BPF_MAP_TYPE_RINGBUF);
                __uint(max_entries, 4096);
            } hellos SEC(".maps") PANBPF_RECORDS(struct hello_event);

            SEC("xdp")
            int hello(struct xdp_md *ctx)
            {
                return XDP_PASS;
            }

            char LICENSE[] SEC("license") = "GPL";
            """;

    private final List<String> log = new ArrayList<>();

    private BpfBuild build(Path dir, String clang) {
        return new BpfBuild(new BpfBuild.Settings(dir.resolve("src/main/bpf"), dir.resolve("target/res"),
                dir.resolve("target/java"), dir.resolve("target/panbpf"), "org.example.hello", clang, List.of()),
                log::add);
    }

    private static Path source(Path dir, String text) throws Exception {
        Path c = dir.resolve("src/main/bpf/hello.bpf.c");
        Files.createDirectories(c.getParent());
        Files.writeString(c, text);
        return c;
    }

    @Test
    void compilesGeneratesAndThenDoesNothingUntilTheSourceChanges(@TempDir Path dir) throws Exception {
        Path c = source(dir, SOURCE);
        assertEquals(List.of(c), build(dir, "clang").run());
        assertTrue(Files.exists(dir.resolve("target/res/org/example/hello/hello.bpf.o")));
        Path skeleton = dir.resolve("target/java/org/example/hello/HelloObject.java");
        assertTrue(Files.readString(skeleton).contains("hellosReader()"));
        assertTrue(Files.exists(dir.resolve("target/java/org/example/hello/HelloEvent.java")));
        long written = Files.getLastModifiedTime(skeleton).toMillis();

        assertEquals(List.of(), build(dir, "clang").run());                  // nothing changed
        assertEquals(written, Files.getLastModifiedTime(skeleton).toMillis());

        source(dir, SOURCE.replace("__u64 n;", "__u64 n; __u64 m;"));
        assertEquals(List.of(c), build(dir, "clang").run());
        assertTrue(Files.readString(dir.resolve("target/java/org/example/hello/HelloEvent.java")).contains("long m"));
    }

    @Test
    void aMissingClangSaysHowToInstallIt(@TempDir Path dir) throws Exception {
        source(dir, SOURCE);
        CodegenException e = assertThrows(CodegenException.class, () -> build(dir, "/no/such/clang").run());
        assertTrue(e.getMessage().contains("apt-get install clang"), e.getMessage());
    }

    @Test
    void aCompileErrorCarriesClangsMessage(@TempDir Path dir) throws Exception {
        source(dir, SOURCE.replace("return XDP_PASS;", "return XDP_PASS"));
        CodegenException e = assertThrows(CodegenException.class, () -> build(dir, "clang").run());
        assertTrue(e.getMessage().contains("hello.bpf.c:") && e.getMessage().contains("expected ';'"),
                e.getMessage());
    }

    @Test
    void aStructOnlyALocalUsesIsNamedWithTheRuleAndTheMacro(@TempDir Path dir) throws Exception {
        source(dir, SOURCE.replace("PANBPF_KEEP(struct hello_event);", ""));
        CodegenException e = assertThrows(CodegenException.class, () -> build(dir, "clang").run());
        assertTrue(e.getMessage().contains("PANBPF_KEEP(struct hello_event)"), e.getMessage());
    }
}
