package dev.panbpf.internal;

import dev.panbpf.BpfException;
import dev.panbpf.bindings.bpf_attr;
import dev.panbpf.bindings.bpf_h;
import dev.panbpf.bindings.bpf_map_info;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/** MapAttr fills {@code union bpf_attr} for the map commands and makes the call. */
public final class MapAttr {
    private MapAttr() { }

    /**
     * BPF_MAP_CREATE.
     *
     * @param type the BPF_MAP_TYPE_* number
     * @param keySize key size, a u32 (0 to 2^32-1) the caller checked
     * @param valueSize value size, a u32 the caller checked
     * @param maxEntries max entries, a u32 the caller checked
     * @param flags BPF_F_* flags
     * @param name the map name, cut to 15 characters
     * @return the new map fd
     * @throws dev.panbpf.BpfException if the kernel refuses, naming the errno
     */
    public static int create(int type, long keySize, long valueSize, long maxEntries, int flags, String name) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment attr = bpf_attr.allocate(a);
            bpf_attr.map_type(attr, type);
            bpf_attr.key_size(attr, (int) keySize);           // the low 32 bits are the u32
            bpf_attr.value_size(attr, (int) valueSize);
            bpf_attr.max_entries(attr, (int) maxEntries);
            bpf_attr.map_flags(attr, flags);
            byte[] n = name.getBytes(java.nio.charset.StandardCharsets.US_ASCII);
            MemorySegment.copy(n, 0, bpf_attr.map_name(attr), java.lang.foreign.ValueLayout.JAVA_BYTE, 0,
                    Math.min(n.length, bpf_h.BPF_OBJ_NAME_LEN() - 1));
            return Sys.bpf(bpf_h.BPF_MAP_CREATE(), attr, BpfCommands.mapType(type) + " map '" + name + "'");
        }
    }

    /**
     * One of the BPF_MAP_*_ELEM commands (or BPF_MAP_GET_NEXT_KEY, whose "value" is the next key); returns 0 or
     * {@code -errno}. The caller has checked the segments; both stay alive until the kernel is done with them.
     *
     * @param cmd the command
     * @param fd the map fd
     * @param key the key, or NULL
     * @param value the value (the next key for BPF_MAP_GET_NEXT_KEY), or NULL
     * @param flags the command's flags
     * @return 0, or {@code -errno}
     */
    public static int elem(int cmd, int fd, MemorySegment key, MemorySegment value, long flags) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment attr = bpf_attr.allocate(a);
            bpf_attr.map_fd(attr, fd);
            bpf_attr.key(attr, key.address());
            bpf_attr.value(attr, value.address());
            bpf_attr.flags(attr, flags);
            return Sys.bpfHolding(cmd, attr, key, value);
        }
    }

    /** BPF_OBJ_GET_INFO_BY_FD for a map; fills and returns a {@code struct bpf_map_info} in {@code arena}. */
    public static MemorySegment info(Arena arena, int fd, String what) {
        MemorySegment info = bpf_map_info.allocate(arena);
        try (Arena a = Arena.ofConfined()) {
            MemorySegment attr = bpf_attr.allocate(a);
            MemorySegment i = bpf_attr.info(attr);
            bpf_attr.info.bpf_fd(i, fd);
            bpf_attr.info.info_len(i, (int) info.byteSize());
            bpf_attr.info.info(i, info.address());
            int r = Sys.bpfHolding(bpf_h.BPF_OBJ_GET_INFO_BY_FD(), attr, info, MemorySegment.NULL);
            if (r < 0) {
                throw new BpfException("bpf(BPF_OBJ_GET_INFO_BY_FD) on " + what, -r, null);
            }
        }
        return info;
    }
}
