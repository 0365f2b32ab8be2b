/** Compiled BPF objects used by panbpf's tests, benchmarks and samples, shipped as resources. */
module dev.panbpf.bpf {
    exports dev.panbpf.bpf;
    opens dev.panbpf.bpf;
}
