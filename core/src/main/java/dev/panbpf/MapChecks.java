package dev.panbpf;

import dev.panbpf.bindings.bpf_h;
import dev.panbpf.internal.RingSize;
import dev.panbpf.internal.Sys;

import java.lang.foreign.MemorySegment;

/**
 * MapChecks refuses, before any syscall, what the kernel would refuse or misread in a map operation: sizes a u32
 * cannot hold, ring sizes the kernel cannot take, keys and values of the wrong size or whose memory is not fit
 * for the kernel (see {@link SegmentChecks}), and queue operations on other maps.
 */
final class MapChecks {
    private MapChecks() { }

    /** The largest size the kernel's u32 fields hold. */
    static final long U32_MAX = 0xFFFF_FFFFL;

    /** The kernel takes map sizes as u32: refuse what would wrap instead of passing its low 32 bits. */
    static void u32(String map, String what, long size) {
        if (size < 0 || size > U32_MAX) {
            throw new IllegalArgumentException("map '" + map + "': " + what + " " + size + (size < 0 ? " is negative"
                    : " is too large") + "; the kernel takes 0 to " + U32_MAX + " (a u32)");
        }
    }

    /** The arguments of {@link BpfMap#create}: u32 sizes, a name the kernel takes, a ring's size and shape. */
    static void create(MapType type, long keySize, long valueSize, long maxEntries, String name) {
        u32(name, "key size", keySize);
        u32(name, "value size", valueSize);
        u32(name, "max entries", maxEntries);
        if (name.length() >= bpf_h.BPF_OBJ_NAME_LEN()) {
            throw new IllegalArgumentException("map name '" + name + "' is longer than 15 characters");
        }
        if (type == MapType.RINGBUF || type == MapType.USER_RINGBUF) {
            RingSize.check(name, maxEntries);
            if (keySize != 0 || valueSize != 0) {
                throw new IllegalArgumentException("ring buffer map '" + name + "' takes key and value size 0, got "
                        + keySize + " and " + valueSize);
            }
        }
    }

    /** Checks a key the kernel reads: its memory, then its size. */
    static void key(BpfMap map, MemorySegment key) {
        SegmentChecks.kernelReads(key, "key", map);
        if (key.byteSize() != map.keySize()) {
            throw new IllegalArgumentException(map + " has " + map.keySize() + "-byte keys; the key given has "
                    + key.byteSize() + " bytes");
        }
    }

    /** Checks a value buffer the kernel reads or, when {@code written}, writes into. */
    static void value(BpfMap map, MemorySegment value, boolean written) {
        if (written) {
            SegmentChecks.kernelWrites(value, "value", map);
        } else {
            SegmentChecks.kernelReads(value, "value", map);
        }
        long want = map.valueBufferSize();
        long valueSize = map.valueSize();
        if (value.byteSize() != want) {
            throw new IllegalArgumentException(map + " has " + valueSize + "-byte values" + (want == valueSize ? ""
                    : ", one per possible CPU padded to 8 bytes: " + want + " bytes") + "; the value given has "
                    + value.byteSize() + " bytes");
        }
    }

    /** The int/long lookups read one value of {@code bytes}: say so before any syscall when the map's differ. */
    static void scalarValue(BpfMap map, long bytes, String method) {
        long valueSize = map.valueSize();
        if (map.valueBufferSize() != valueSize) {
            throw new IllegalArgumentException(map + " is a per-CPU map: " + method + " would read only one CPU's "
                    + "value; use lookup(key, value) with a " + map.valueBufferSize() + "-byte buffer (one "
                    + "8-byte-aligned slot per possible CPU)");
        }
        if (valueSize != bytes) {
            throw new IllegalArgumentException(map + " has " + valueSize + "-byte values; " + method + " reads "
                    + bytes + " bytes. Use " + (valueSize == 4 ? "lookupInt" : valueSize == 8 ? "lookupLong"
                    : "lookup(key, value) with a " + valueSize + "-byte segment") + " instead");
        }
    }

    /** push, pop and peek work on queue and stack maps only. */
    static void queue(BpfMap map, String op) {
        if (map.type() != MapType.QUEUE.value() && map.type() != MapType.STACK.value()) {
            throw new IllegalArgumentException(op + " works on queue and stack maps; " + map + " is not one (use "
                    + "lookup/update/delete)");
        }
    }
}
