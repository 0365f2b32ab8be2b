package dev.panbpf;

import dev.panbpf.bindings.bpf_h;
import dev.panbpf.perf.PerfBuffer;
import dev.panbpf.ringbuf.RingBuffer;

/** MapType names the kernel's map types that panbpf works with, by their {@code BPF_MAP_TYPE_*} number. */
public enum MapType {
    /** BPF_MAP_TYPE_HASH. */
    HASH(bpf_h.BPF_MAP_TYPE_HASH()),
    /** BPF_MAP_TYPE_ARRAY. */
    ARRAY(bpf_h.BPF_MAP_TYPE_ARRAY()),
    /** BPF_MAP_TYPE_PROG_ARRAY. */
    PROG_ARRAY(bpf_h.BPF_MAP_TYPE_PROG_ARRAY()),
    /** BPF_MAP_TYPE_PERF_EVENT_ARRAY: one perf event fd per CPU, read with {@link PerfBuffer}. */
    PERF_EVENT_ARRAY(bpf_h.BPF_MAP_TYPE_PERF_EVENT_ARRAY()),
    /** BPF_MAP_TYPE_PERCPU_HASH. */
    PERCPU_HASH(bpf_h.BPF_MAP_TYPE_PERCPU_HASH()),
    /** BPF_MAP_TYPE_PERCPU_ARRAY. */
    PERCPU_ARRAY(bpf_h.BPF_MAP_TYPE_PERCPU_ARRAY()),
    /** BPF_MAP_TYPE_LRU_HASH. */
    LRU_HASH(bpf_h.BPF_MAP_TYPE_LRU_HASH()),
    /** BPF_MAP_TYPE_QUEUE: FIFO of values, no keys. */
    QUEUE(bpf_h.BPF_MAP_TYPE_QUEUE()),
    /** BPF_MAP_TYPE_STACK: LIFO of values, no keys. */
    STACK(bpf_h.BPF_MAP_TYPE_STACK()),
    /** BPF_MAP_TYPE_BLOOM_FILTER. */
    BLOOM_FILTER(bpf_h.BPF_MAP_TYPE_BLOOM_FILTER()),
    /** BPF_MAP_TYPE_RINGBUF: kernel-to-user ring, read with {@link RingBuffer}. */
    RINGBUF(bpf_h.BPF_MAP_TYPE_RINGBUF()),
    /** BPF_MAP_TYPE_USER_RINGBUF: user-to-kernel ring. */
    USER_RINGBUF(bpf_h.BPF_MAP_TYPE_USER_RINGBUF());

    private final int value;

    MapType(int value) {
        this.value = value;
    }

    /** {@return the kernel's number for this type} */
    public int value() {
        return value;
    }

    /**
     * The type with kernel number {@code value}, or null when panbpf has no name for it.
     *
     * @param value a BPF_MAP_TYPE_* number
     * @return the matching constant, or null
     */
    public static MapType of(int value) {
        for (MapType t : values()) {
            if (t.value == value) {
                return t;
            }
        }
        return null;
    }
}
