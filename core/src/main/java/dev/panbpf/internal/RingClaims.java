package dev.panbpf.internal;

import dev.panbpf.BpfException;
import dev.panbpf.bindings.bpf_map_info;

import java.lang.foreign.Arena;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * RingClaims lets at most one object in this process read (or, for user ring buffers, write) each ring buffer
 * map at a time. Two readers of one map would each move consumer_pos and hand out records the other is about to
 * overwrite; the claim turns that into an error when the second one is opened. Maps are told apart by their
 * kernel map id, so two fds of the same map are caught too.
 */
public final class RingClaims {
    private RingClaims() { }

    private static final Map<Integer, String> CLAIMED = new ConcurrentHashMap<>();

    /** Claims the map behind {@code fd} for {@code owner} (for messages); returns the map id to release. */
    public static int claim(int fd, String owner) {
        int id;
        try (Arena a = Arena.ofConfined()) {
            id = bpf_map_info.id(MapAttr.info(a, fd, owner));
        }
        String previous = CLAIMED.putIfAbsent(id, owner);
        if (previous != null) {
            throw new BpfException(owner + ": this map (id " + id + ") is already open as " + previous
                    + " in this process; close that one first (each ring buffer map gets one such object at a time)");
        }
        return id;
    }

    /** Releases a claim made by {@link #claim}. */
    public static void release(int id) {
        CLAIMED.remove(id);
    }
}
