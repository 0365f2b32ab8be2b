/**
 * The panbpf samples and the {@code panbpf} command: short programs that show real kernel events reaching Java
 * (XDP packets over both buffers, file deletions, a queue map, bpf_printk) and a ring vs perf buffer comparison.
 */
module dev.panbpf.samples {
    requires dev.panbpf;
    requires dev.panbpf.bpf;
    requires dev.panbpf.codegen;

    exports dev.panbpf.samples;
}
