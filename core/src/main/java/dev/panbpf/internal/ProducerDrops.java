package dev.panbpf.internal;

import dev.panbpf.BpfMap;
import dev.panbpf.BpfObject;
import dev.panbpf.MapType;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

import jdk.jfr.FlightRecorder;

/**
 * ProducerDrops reads how often BPF programs failed to put a record into one ring or perf buffer, as the
 * wrappers of panbpf.bpf.h ({@code panbpf_ringbuf_reserve} and the others) count it: in the per-CPU hash
 * {@code panbpf_drops} of the buffer's own object, keyed by the buffer map's name (cut to the 15 bytes the kernel
 * keeps, NUL-padded to 16), one u64 per CPU. The kernel counts none of these failures itself.
 *
 * <p>It holds no resource: each read is one map lookup. A buffer map without an object (made by
 * {@link BpfMap#create} or {@link BpfMap#describe}) or whose object has no {@code panbpf_drops} counts nothing.
 * A counter that counts is watched, until {@link #close()}, by JFR's periodic {@link ProducerDropsEvent}.
 */
public final class ProducerDrops {
    /** The counter map's name, as {@code PANBPF_DROPS_MAP} defines it. */
    public static final String MAP = "panbpf_drops";
    /** BPF_OBJ_NAME_LEN: the kernel keeps 15 bytes of a map name and a NUL. */
    static final int KEY_SIZE = 16;

    /** The counters that count, read by the periodic JFR event; each reader removes its own on close. */
    private static final Set<ProducerDrops> WATCHED = ConcurrentHashMap.newKeySet();

    static {
        FlightRecorder.addPeriodicEvent(ProducerDropsEvent.class, ProducerDrops::report);
    }

    private final BpfMap counts;   // null: nothing counts drops for this buffer
    private final String buffer;
    private final byte[] key;
    private final long atOpen;
    /** What the JFR hook reported last; its thread only. */
    private long reported;

    private ProducerDrops(BpfMap counts, String buffer, byte[] key) {
        this.counts = counts;
        this.buffer = buffer;
        this.key = key;
        this.atOpen = counts == null ? 0 : total();
        if (counts != null) {
            WATCHED.add(this);
        }
    }

    /** The periodic hook: one event per watched buffer whose count grew. A closed object drops out. */
    private static void report() {
        for (ProducerDrops d : WATCHED) {
            try {
                long total = d.sinceOpen();
                if (total > d.reported) {
                    ProducerDropsEvent.emit(d.buffer, total - d.reported, total);
                    d.reported = total;
                }
            } catch (RuntimeException closed) {       // the object (and its counter map) closed before the reader
                WATCHED.remove(d);
            }
        }
    }

    /** Stops JFR's watch of this counter; the reader calls it when it closes. Idempotent. */
    public void close() {
        WATCHED.remove(this);
    }

    /**
     * Finds the drop counter of {@code buffer} in its object and takes the count so far as the starting point.
     *
     * @param buffer a ring buffer or perf event array map
     * @return the counter of that map's drops since now
     * @throws IllegalArgumentException if the object has a map {@code panbpf_drops} of another shape than the one
     *         {@code PANBPF_DROPS_MAP} defines
     */
    public static ProducerDrops of(BpfMap buffer) {
        byte[] key = key(buffer.name());
        BpfObject object = buffer.object().orElse(null);
        if (object == null) {
            return new ProducerDrops(null, buffer.name(), key);
        }
        BpfMap counts = object.maps().stream().filter(m -> m.name().equals(MAP)).findFirst().orElse(null);
        if (counts != null && (counts.mapType() != MapType.PERCPU_HASH || counts.keySize() != KEY_SIZE
                || counts.valueSize() != Long.BYTES)) {
            throw new IllegalArgumentException(counts + " in " + object + " is not the drop counter of panbpf.bpf.h "
                    + "(a PERCPU_HASH, key char[16], value __u64; it is " + counts.mapType() + ", key "
                    + counts.keySize() + " bytes, value " + counts.valueSize() + " bytes): define it with "
                    + "PANBPF_DROPS_MAP or give your map another name");
        }
        return new ProducerDrops(counts, buffer.name(), key);
    }

    /** The key of a map's count: its name's first 15 bytes, NUL-padded to 16, as the C wrappers build it. */
    static byte[] key(String mapName) {
        byte[] name = mapName.getBytes(StandardCharsets.UTF_8);
        byte[] key = new byte[KEY_SIZE];
        System.arraycopy(name, 0, key, 0, Math.min(name.length, KEY_SIZE - 1));
        return key;
    }

    /**
     * The drops counted since {@link #of}: failed reserves or outputs on this buffer, all CPUs together.
     *
     * @return the count, 0 when nothing counts drops for this buffer
     * @throws dev.panbpf.BpfException if the object (and so the counter map) was closed
     */
    public long sinceOpen() {
        return counts == null ? 0 : total() - atOpen;
    }

    private long total() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment k = a.allocateFrom(ValueLayout.JAVA_BYTE, key);
            MemorySegment values = a.allocate(counts.valueBufferSize(), Long.BYTES);
            if (!counts.lookup(k, values)) {
                return 0;   // no drop yet: the first one creates the entry
            }
            long sum = 0;
            for (long at = 0; at < values.byteSize(); at += Long.BYTES) {
                sum += values.get(ValueLayout.JAVA_LONG, at);
            }
            return sum;
        }
    }
}
