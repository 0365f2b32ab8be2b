package dev.panbpf.ringbuf;

import dev.panbpf.bindings.sys_mman_h;
import dev.panbpf.internal.Arenas;
import dev.panbpf.internal.Sys;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * RingMapping is the two mmaps of one ring buffer map (see {@link RingLayout}), owned by one shared arena:
 * closing it unmaps both. The side the kernel writes is mapped read-only and its segments are read-only too, so a
 * stray Java write fails with an exception instead of a fault that would kill the JVM.
 */
final class RingMapping implements AutoCloseable {
    private final Arena arena;
    private final MemorySegment consumerPage;
    private final MemorySegment producerPage;
    private final MemorySegment data;
    private final long size;

    private RingMapping(Arena arena, MemorySegment consumerPage, MemorySegment producerPage, MemorySegment data,
                        long size) {
        this.arena = arena;
        this.consumerPage = consumerPage;
        this.producerPage = producerPage;
        this.data = data;
        this.size = size;
    }

    /** Maps a BPF_MAP_TYPE_RINGBUF: we write consumer_pos and only read the rest. */
    static RingMapping forConsumer(int fd, long size, String what) {
        return map(fd, size, what, true);
    }

    /** Maps a BPF_MAP_TYPE_USER_RINGBUF: we write producer_pos and the data, and only read consumer_pos. */
    static RingMapping forProducer(int fd, long size, String what) {
        return map(fd, size, what, false);
    }

    private static RingMapping map(int fd, long size, String what, boolean weConsume) {
        int read = sys_mman_h.PROT_READ();
        int readWrite = read | sys_mman_h.PROT_WRITE();
        Arena arena = Arena.ofShared();
        try {
            MemorySegment consumer = Sys.mmap(arena, RingLayout.consumerMappingLength(), weConsume ? readWrite : read,
                    fd, 0, what + " consumer page");
            MemorySegment producer = Sys.mmap(arena, RingLayout.producerMappingLength(size), weConsume ? read
                    : readWrite, fd, RingLayout.producerMappingOffset(), what + " producer page and data");
            if (weConsume) {
                producer = producer.asReadOnly();
            } else {
                consumer = consumer.asReadOnly();
            }
            MemorySegment data = producer.asSlice(RingLayout.dataOffset(), 2 * size);
            return new RingMapping(arena, consumer, producer, data, size);
        } catch (RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    /** The consumer page; {@code consumer_pos} is at {@link RingLayout#CONSUMER_POS}. */
    MemorySegment consumerPage() {
        return consumerPage;
    }

    /** The producer page; {@code producer_pos} is at {@link RingLayout#PRODUCER_POS}. */
    MemorySegment producerPage() {
        return producerPage;
    }

    /** The data area followed by its second mapping: {@code 2 * size} bytes. */
    MemorySegment data() {
        return data;
    }

    /** The size of the data area in bytes. */
    long size() {
        return size;
    }

    /** Unmaps both pieces; segments taken from this mapping become unusable (access throws, never faults). */
    @Override
    public void close() {
        Arenas.closeWhenFree(arena, "the mapping's segments (records or samples)");
    }
}
