package dev.panbpf.codegen;

import dev.panbpf.BpfObject;
import dev.panbpf.ringbuf.RingBuffer;
import dev.panbpf.testing.Kernel;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/**
 * panbpf.bpf.h's drop-counting wrappers in a user's own file, compiled the way the plugin compiles it (the header
 * written next to nothing else, the plugin's clang flags) plus {@code -Werror -mcpu=v3}, and loaded.
 */
class DropsHeaderTest {
    private static final String USER_FILE = """
            #include <linux/bpf.h>
            #include <bpf/bpf_helpers.h>
            #include "panbpf.bpf.h"

            struct ev { __u64 n; };
            PANBPF_DROPS_MAP;

            struct {
                __uint(type, BPF_MAP_TYPE_RINGBUF);
                __uint(max_entries, 4096);
            } events SEC(".maps");

            struct {
                __uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
                __uint(key_size, sizeof(__u32));
                __uint(value_size, sizeof(__u32));
            } samples SEC(".maps");

            SEC("xdp")
            int send(struct xdp_md *ctx)
            {
                struct ev v = { .n = 1 };
                struct bpf_dynptr dp;
                struct ev *e = panbpf_ringbuf_reserve(&events, sizeof(*e), 0);

                if (e) {
                    e->n = 1;
                    bpf_ringbuf_submit(e, 0);
                }
                panbpf_ringbuf_output(&events, &v, sizeof(v), 0);
                if (panbpf_ringbuf_reserve_dynptr(&events, sizeof(v), 0, &dp))
                    bpf_ringbuf_discard_dynptr(&dp, 0);
                else
                    bpf_ringbuf_submit_dynptr(&dp, 0);
                panbpf_perf_event_output(ctx, &samples, BPF_F_CURRENT_CPU, &v, sizeof(v));
                return XDP_PASS;
            }

            char LICENSE[] SEC("license") = "GPL";
            """;

    private static Path compile(Path dir, String source) throws Exception {
        Path c = dir.resolve("user.bpf.c");
        Files.writeString(c, source);
        Path include = BpfCompiler.writeHeader(dir.resolve("include"));
        Path o = dir.resolve("user.bpf.o");
        BpfCompiler.of("clang", List.of("-Werror", "-mcpu=v3"), List.of(include)).compile(c, o);
        return o;
    }

    @Test
    void theWrappersCompileWarningFreeInAUsersFileAndPassTheVerifier(@TempDir Path dir) throws Exception {
        Path o = compile(dir, USER_FILE);
        Generator.Result r = Generator.of(o).packageName("gen.drops").generate();
        assertTrue(r.files().stream().anyMatch(f -> f.source().contains("panbpfDrops()")),
                "the skeleton has an accessor for the counter map like for any map");
        Kernel.requireRoot();
        try (BpfObject obj = BpfObject.open(o).load()) {
            assertEquals("PERCPU_HASH", obj.map("panbpf_drops").mapType().name());
            assertEquals(16, obj.map("panbpf_drops").keySize());
            assertEquals(2, obj.program("send").testRun(new byte[64]).retval(), "XDP_PASS");
        }
    }

    @Test
    void aFileThatUsesOnlyTheBtfMacrosGetsNoCounterMap(@TempDir Path dir) throws Exception {
        Path o = compile(dir, """
                #include <linux/bpf.h>
                #include <bpf/bpf_helpers.h>
                #include "panbpf.bpf.h"
                struct ev { __u64 n; };
                PANBPF_KEEP(struct ev);
                SEC("xdp") int pass(struct xdp_md *ctx) { return XDP_PASS; }
                char LICENSE[] SEC("license") = "GPL";
                """);
        Kernel.requireRoot();
        try (BpfObject obj = BpfObject.open(o).load()) {
            assertTrue(obj.maps().stream().noneMatch(m -> m.name().equals("panbpf_drops")), obj.maps().toString());
        }
    }

    @Test
    void aReaderRefusesAMapNamedLikeTheCounterWithAnotherShape(@TempDir Path dir) throws Exception {
        Path o = compile(dir, """
                #include <linux/bpf.h>
                #include <bpf/bpf_helpers.h>
                struct {
                    __uint(type, BPF_MAP_TYPE_ARRAY);
                    __uint(max_entries, 1);
                    __type(key, __u32);
                    __type(value, __u64);
                } panbpf_drops SEC(".maps");
                struct {
                    __uint(type, BPF_MAP_TYPE_RINGBUF);
                    __uint(max_entries, 4096);
                } events SEC(".maps");
                SEC("xdp") int pass(struct xdp_md *ctx)
                {
                    __u32 k = 0;
                    void *r = bpf_ringbuf_reserve(&events, 8, 0);
                    if (r)
                        bpf_ringbuf_discard(r, 0);
                    return bpf_map_lookup_elem(&panbpf_drops, &k) ? XDP_PASS : XDP_DROP;
                }
                char LICENSE[] SEC("license") = "GPL";
                """);
        Kernel.requireRoot();
        try (BpfObject obj = BpfObject.open(o).load()) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> RingBuffer.of(obj.map("events")));
            assertTrue(e.getMessage().contains("PANBPF_DROPS_MAP"), e.getMessage());
        }
    }

    @Test
    void theCounterMapBeforeLinuxBpfHFailsNamingTheFix(@TempDir Path dir) {
        CodegenException e = assertThrows(CodegenException.class, () -> compile(dir, """
                #include "panbpf.bpf.h"
                #include <linux/bpf.h>
                PANBPF_DROPS_MAP;
                char LICENSE[] __attribute__((section("license"), used)) = "GPL";
                """));
        assertTrue(e.getMessage().contains("include <linux/bpf.h> (or vmlinux.h) before panbpf.bpf.h"),
                e.getMessage());
    }

    @Test
    void forgettingTheCounterMapIsACompileError(@TempDir Path dir) {
        CodegenException e = assertThrows(CodegenException.class,
                () -> compile(dir, USER_FILE.replace("PANBPF_DROPS_MAP;", "")));
        assertTrue(e.getMessage().contains("panbpf_drops"), e.getMessage());
    }
}
