package dev.panbpf.internal;

import dev.panbpf.BpfException;
import dev.panbpf.bindings.bpf_map_info;

import java.lang.foreign.Arena;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * MapClaims lets at most one object in this process own a role on each kernel map at a time, the map told apart
 * by its kernel map id (BPF_OBJ_GET_INFO_BY_FD), so two fds of the same map collide as they should. There is an
 * instance per role, with the reason a second owner cannot be in its refusal.
 */
public final class MapClaims {
    /**
     * RINGS: one reader of each BPF_MAP_TYPE_RINGBUF (a ring buffer, or a ring of a poller) and one writer of each
     * BPF_MAP_TYPE_USER_RINGBUF. Two readers would each move consumer_pos and hand out records the other is about
     * to overwrite; two writers would reserve the same space.
     */
    public static final MapClaims RINGS = new MapClaims("open as", "close that one first (each ring buffer map "
            + "gets one such object at a time)");

    /** PERF_READERS: one perf buffer per PERF_EVENT_ARRAY (each stores its events in the map at key = CPU). */
    public static final MapClaims PERF_READERS = new MapClaims("a second reader would replace the first one's "
            + "per-CPU entries in the map, and closing either would delete the other's. Close that one first, or "
            + "read through it (one PerfBuffer or OrderedPerfBuffer per PERF_EVENT_ARRAY)");

    private final Map<Integer, String> claimed = new ConcurrentHashMap<>();
    /** How the refusal names the first owner's hold: "read by", "open as". */
    private final String held;
    private final String why;

    /**
     * A role of readers whose refusal explains itself.
     *
     * @param why why a second owner cannot be, and what to do instead
     */
    public MapClaims(String why) {
        this("read by", why);
    }

    private MapClaims(String held, String why) {
        this.held = held;
        this.why = why;
    }

    /**
     * Claims the map behind {@code fd} for {@code owner} (named in messages); returns the map id to
     * {@link #release}.
     *
     * @param fd an fd of the map
     * @param owner the claiming object, as messages name it
     * @return the map's kernel id, to release
     * @throws dev.panbpf.BpfException naming both owners when the map is claimed already
     */
    public int claim(int fd, String owner) {
        int id;
        try (Arena a = Arena.ofConfined()) {
            id = bpf_map_info.id(MapAttr.info(a, fd, owner));
        }
        String previous = claimed.putIfAbsent(id, owner);
        if (previous != null) {
            throw new BpfException(owner + ": this map (id " + id + ") is already " + held + " " + previous
                    + " in this process; " + why);
        }
        return id;
    }

    /**
     * Releases a claim made by {@link #claim}.
     *
     * @param id the map id {@link #claim} returned
     */
    public void release(int id) {
        claimed.remove(id);
    }
}
