/**
 * panbpf: BPF objects, maps, ring buffers and perf buffers for the JVM, through the FFM API.
 * The API is in {@code dev.panbpf}; FFM plumbing stays in non-exported packages.
 */
module dev.panbpf {
    requires transitive dev.panbpf.bindings;
    requires org.slf4j;

    exports dev.panbpf;
    exports dev.panbpf.event;
}
