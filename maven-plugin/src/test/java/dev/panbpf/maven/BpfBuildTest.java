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

    /** A CO-RE program: kernel types from vmlinux.h, a field read relocated by libbpf at load. */
    private static final String CORE_SOURCE = """
            #include "vmlinux.h"
            #include <bpf/bpf_helpers.h>
            #include <bpf/bpf_core_read.h>
            #include "panbpf.bpf.h"

            struct exec_seen { __u32 pid; __u32 ppid; };
            PANBPF_KEEP(struct exec_seen);

            struct {
                __uint(type, BPF_MAP_TYPE_RINGBUF);
                __uint(max_entries, 4096);
            } seen SEC(".maps") PANBPF_RECORDS(struct exec_seen);

            SEC("raw_tp/sched_process_exec")
            int on_exec(void *ctx)
            {
                struct task_struct *t = (struct task_struct *)bpf_get_current_task();
                struct exec_seen *e = bpf_ringbuf_reserve(&seen, sizeof(*e), 0);

                if (!e)
                    return 0;
                e->pid = BPF_CORE_READ(t, tgid);
                e->ppid = BPF_CORE_READ(t, real_parent, tgid);
                bpf_ringbuf_submit(e, 0);
                return 0;
            }

            char LICENSE[] SEC("license") = "GPL";
            """;

    private BpfBuild coreBuild(Path dir, Path btf, String bpftool) {
        return new BpfBuild(new BpfBuild.Settings(dir.resolve("src/main/bpf"), dir.resolve("target/res"),
                dir.resolve("target/java"), dir.resolve("target/panbpf"), "org.example.hello", "clang", List.of(),
                btf, bpftool), log::add);
    }

    @Test
    void vmlinuxHeaderIsWrittenFromTheKernelsBtfAndACoReProgramBuildsAndLoads(@TempDir Path dir) throws Exception {
        Path c = source(dir, CORE_SOURCE);
        // Without the header the include fails: the option is what makes CO-RE sources build.
        assertThrows(CodegenException.class, () -> build(dir, "clang").run());
        assertEquals(List.of(c), coreBuild(dir, VmlinuxHeader.KERNEL_BTF, "bpftool").run());
        Path header = dir.resolve("target/panbpf/include/vmlinux.h");
        assertTrue(Files.readString(header).contains("struct task_struct {"));
        long written = Files.getLastModifiedTime(header).toMillis();
        assertEquals(List.of(), coreBuild(dir, VmlinuxHeader.KERNEL_BTF, "bpftool").run());   // same kernel
        assertEquals(written, Files.getLastModifiedTime(header).toMillis());
        try (dev.panbpf.BpfObject obj = dev.panbpf.BpfObject.open(
                dir.resolve("target/res/org/example/hello/hello.bpf.o"))) {
            obj.load();                                     // libbpf relocates the task_struct reads
            assertTrue(obj.program("on_exec").fd() > 0);
        }
    }

    @Test
    void aMissingBpftoolOrBtfSaysWhatToInstallOrSet(@TempDir Path dir) throws Exception {
        source(dir, CORE_SOURCE);
        CodegenException tool = assertThrows(CodegenException.class,
                () -> coreBuild(dir, VmlinuxHeader.KERNEL_BTF, "/no/such/bpftool").run());
        assertTrue(tool.getMessage().contains("apt-get install bpftool"), tool.getMessage());
        CodegenException btf = assertThrows(CodegenException.class,
                () -> coreBuild(dir, dir.resolve("no-such-btf"), "bpftool").run());
        assertTrue(btf.getMessage().contains("no readable BTF") && btf.getMessage().contains("<btfFile>"),
                btf.getMessage());
    }

    @Test
    void aNewKernelsBtfRewritesVmlinuxHAndRecompilesAndTurningItOffRemovesIt(@TempDir Path dir) throws Exception {
        Path c = source(dir, CORE_SOURCE);
        Path btf = dir.resolve("target-kernel.btf");
        Files.copy(VmlinuxHeader.KERNEL_BTF, btf);
        Path header = dir.resolve("target/panbpf/include/vmlinux.h");
        assertEquals(List.of(c), coreBuild(dir, btf, "bpftool").run());
        assertTrue(Files.readString(header).contains("struct task_struct {"));

        // Another "kernel": the BTF of a BPF object, which has no task_struct. The header follows it, and the
        // source is compiled again (and now fails), rather than kept from the last kernel's build.
        Files.copy(Path.of("../bpf-src/src/main/resources/dev/panbpf/bpf/producer.bpf.o"), btf,
                java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        CodegenException e = assertThrows(CodegenException.class, () -> coreBuild(dir, btf, "bpftool").run());
        assertTrue(e.getMessage().contains("clang failed on"), e.getMessage());   // compiled again
        assertTrue(Files.readString(header).contains("struct producer_config {"));

        // Option off: no stale header stays on the include path.
        assertThrows(CodegenException.class, () -> build(dir, "clang").run());
        assertTrue(Files.notExists(header), "vmlinux.h of an earlier build is removed");
    }

    @Test
    void aBpftoolThatHangsIsStoppedWithAClearError(@TempDir Path dir) throws Exception {
        source(dir, CORE_SOURCE);
        Path hang = dir.resolve("bpftool");
        Files.writeString(hang, "#!/bin/sh\nexec sleep 60\n");
        hang.toFile().setExecutable(true);
        long before = VmlinuxHeader.TIMEOUT_SECONDS;
        VmlinuxHeader.TIMEOUT_SECONDS = 1;
        try {
            long t0 = System.nanoTime();
            CodegenException e = assertThrows(CodegenException.class,
                    () -> coreBuild(dir, VmlinuxHeader.KERNEL_BTF, hang.toString()).run());
            assertTrue(e.getMessage().contains("did not finish"), e.getMessage());
            assertTrue(System.nanoTime() - t0 < 30_000_000_000L, "stopped long before the fake bpftool's 60 s");
        } finally {
            VmlinuxHeader.TIMEOUT_SECONDS = before;
        }
    }
}
