/**
 * panbpf: BPF objects, maps, ring buffers and perf buffers for the JVM, through the FFM API.
 *
 * <p>{@code dev.panbpf} holds objects, programs, maps, links, CPUs and the exceptions; {@code dev.panbpf.ringbuf}
 * the ring buffer reader, poller and user ring writer; {@code dev.panbpf.perf} the perf buffer and its ordered
 * reader; {@code dev.panbpf.event} typed events. The bindings and the FFM plumbing are not exported.
 */
module dev.panbpf {
    requires dev.panbpf.bindings;
    requires jdk.jfr;
    requires org.slf4j;

    exports dev.panbpf;
    exports dev.panbpf.event;
    exports dev.panbpf.perf;
    exports dev.panbpf.ringbuf;
}
