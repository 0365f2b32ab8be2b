package dev.panbpf;

import dev.panbpf.bindings.bpf_h;
import dev.panbpf.bindings.errno_h;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Iterator;
import java.util.NoSuchElementException;

/**
 * MapKeys walks a map's keys with BPF_MAP_GET_NEXT_KEY: a NULL key asks for the first key, each key asks for
 * the one after it, and ENOENT means there is none. Keys live in an automatic arena, so each one stays valid as
 * long as the caller holds it.
 */
final class MapKeys implements Iterator<MemorySegment> {
    private final BpfMap map;
    private final Arena arena = Arena.ofAuto();
    private MemorySegment current = MemorySegment.NULL;
    private MemorySegment next;
    private boolean done;

    MapKeys(BpfMap map) {
        this.map = map;
    }

    @Override
    public boolean hasNext() {
        if (next == null && !done) {
            MemorySegment k = arena.allocate(Math.max(1, map.keySize())).asSlice(0, map.keySize());
            int r = map.elem(bpf_h.BPF_MAP_GET_NEXT_KEY(), current, k, 0);
            if (r == -errno_h.ENOENT()) {
                done = true;
            } else {
                map.check(r, "next key", false);
                next = k;
            }
        }
        return next != null;
    }

    @Override
    public MemorySegment next() {
        if (!hasNext()) {
            throw new NoSuchElementException("no more keys in " + map);
        }
        current = next;
        next = null;
        return current;
    }
}
