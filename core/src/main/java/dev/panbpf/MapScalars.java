package dev.panbpf;

import dev.panbpf.bindings.bpf_h;
import dev.panbpf.bindings.bpf_map_info;
import dev.panbpf.internal.Fd;
import dev.panbpf.internal.MapAttr;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * MapScalars does the work of BpfMap's int and long conveniences: it puts the key and value in a confined arena
 * and calls the segment operation (and describes borrowed fds), so that BpfMap keeps one-line methods and stays
 * short.
 */
final class MapScalars {
    private MapScalars() { }

    /** The body of {@link BpfMap#describe}: asks the kernel for the type and sizes of a borrowed map fd. */
    static BpfMap describe(int fd, String name) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment info = MapAttr.info(a, fd, "map '" + name + "'");
            return new BpfMap(Fd.borrowed(fd, "map '" + name + "'"), false, name, bpf_map_info.type(info),
                    Integer.toUnsignedLong(bpf_map_info.key_size(info)),
                    Integer.toUnsignedLong(bpf_map_info.value_size(info)),
                    Integer.toUnsignedLong(bpf_map_info.max_entries(info)), bpf_map_info.map_flags(info));
        }
    }

    /** A map of a loaded object: described from its fd, and knowing its object. */
    static BpfMap describe(int fd, String name, BpfObject object) {
        BpfMap m = describe(fd, name);
        m.object = object;
        return m;
    }

    static Integer lookupInt(BpfMap m, int key) {
        MapChecks.scalarValue(m, 4, "lookupInt");
        try (Arena a = Arena.ofConfined()) {
            MemorySegment v = a.allocate(m.valueBufferSize());
            return m.lookup(a.allocateFrom(ValueLayout.JAVA_INT, key), v) ? v.get(ValueLayout.JAVA_INT, 0) : null;
        }
    }

    static Long lookupLong(BpfMap m, int key) {
        MapChecks.scalarValue(m, 8, "lookupLong");
        try (Arena a = Arena.ofConfined()) {
            MemorySegment v = a.allocate(m.valueBufferSize());
            return m.lookup(a.allocateFrom(ValueLayout.JAVA_INT, key), v) ? v.get(ValueLayout.JAVA_LONG, 0) : null;
        }
    }

    static Long lookupLong(BpfMap m, long key) {
        MapChecks.scalarValue(m, 8, "lookupLong");
        try (Arena a = Arena.ofConfined()) {
            MemorySegment v = a.allocate(m.valueBufferSize());
            return m.lookup(a.allocateFrom(ValueLayout.JAVA_LONG, key), v) ? v.get(ValueLayout.JAVA_LONG, 0) : null;
        }
    }

    static void update(BpfMap m, int key, int value, long flags) {
        try (Arena a = Arena.ofConfined()) {
            m.update(a.allocateFrom(ValueLayout.JAVA_INT, key), a.allocateFrom(ValueLayout.JAVA_INT, value), flags);
        }
    }

    static void update(BpfMap m, int key, long value, long flags) {
        try (Arena a = Arena.ofConfined()) {
            m.update(a.allocateFrom(ValueLayout.JAVA_INT, key), a.allocateFrom(ValueLayout.JAVA_LONG, value), flags);
        }
    }

    static void update(BpfMap m, long key, long value, long flags) {
        try (Arena a = Arena.ofConfined()) {
            m.update(a.allocateFrom(ValueLayout.JAVA_LONG, key), a.allocateFrom(ValueLayout.JAVA_LONG, value), flags);
        }
    }

    static boolean delete(BpfMap m, int key) {
        try (Arena a = Arena.ofConfined()) {
            return m.delete(a.allocateFrom(ValueLayout.JAVA_INT, key));
        }
    }

    static boolean delete(BpfMap m, long key) {
        try (Arena a = Arena.ofConfined()) {
            return m.delete(a.allocateFrom(ValueLayout.JAVA_LONG, key));
        }
    }

    static void push(BpfMap m, int value) {
        try (Arena a = Arena.ofConfined()) {
            m.push(a.allocateFrom(ValueLayout.JAVA_INT, value), bpf_h.BPF_ANY());
        }
    }

    static void push(BpfMap m, long value) {
        try (Arena a = Arena.ofConfined()) {
            m.push(a.allocateFrom(ValueLayout.JAVA_LONG, value), bpf_h.BPF_ANY());
        }
    }

    /** Takes (pop) or reads (peek) the next value of a queue or stack as an int, or null when it is empty. */
    static Integer nextInt(BpfMap m, boolean take) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment v = a.allocate(ValueLayout.JAVA_INT);
            return (take ? m.pop(v) : m.peek(v)) ? v.get(ValueLayout.JAVA_INT, 0) : null;
        }
    }

    /** As {@link #nextInt} for a long value. */
    static Long nextLong(BpfMap m, boolean take) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment v = a.allocate(ValueLayout.JAVA_LONG);
            return (take ? m.pop(v) : m.peek(v)) ? v.get(ValueLayout.JAVA_LONG, 0) : null;
        }
    }
}
