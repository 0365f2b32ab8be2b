package dev.panbpf.perf;

import dev.panbpf.BpfException;
import dev.panbpf.BpfMap;
import dev.panbpf.Cpus;
import dev.panbpf.MapType;
import dev.panbpf.bindings.sys_epoll_h;
import dev.panbpf.bindings.sys_mman_h;
import dev.panbpf.internal.Epoll;
import dev.panbpf.internal.Fd;
import dev.panbpf.internal.MapClaims;
import dev.panbpf.internal.ProducerDrops;
import dev.panbpf.internal.Sys;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Supplier;

/**
 * PerfCpuSet owns what a perf reader holds per CPU: the perf event fd, its mapped ring and {@link PerfCursor},
 * the scratch segment for wrapped records, and the fd's entry in the PERF_EVENT_ARRAY; and the epoll that
 * watches the events. It claims the map first ({@link MapClaims}: a second set on the same map would overwrite
 * these entries), then opens in the order open, map, watch, enable, publish in the map, and {@link #close()}
 * undoes them in the order that keeps every step safe: remove the map entries (no program finds the events any
 * more), disable (an output already under way finishes first), count the samples left unread, unmap, close,
 * release the claim.
 */
final class PerfCpuSet implements AutoCloseable {
    private final BpfMap map;
    private final int[] cpus;
    private final int[] indexOfCpu;
    /** Per CPU (CachedConsumeBenchmark reaches the pages through this field, by name). */
    private final PerfCursor[] rings;
    private final Fd[] fds;
    private final boolean[] inMap;
    private final Arena arena = Arena.ofShared();
    private final int claim;
    /** The map's failed outputs, counted by panbpf.bpf.h's wrapper; its JFR watch ends in close(). */
    private final ProducerDrops drops;
    private Epoll epoll;
    private long droppedAtClose;
    private boolean closed;

    private PerfCpuSet(BpfMap map, int[] cpus, PerfOptions options, String owner) {
        this.claim = MapClaims.PERF_READERS.claim(map.fd(), owner);
        this.map = map;
        this.cpus = cpus;
        this.rings = new PerfCursor[cpus.length];
        this.fds = new Fd[cpus.length];
        this.inMap = new boolean[cpus.length];
        this.indexOfCpu = new int[cpus[cpus.length - 1] + 1];
        Arrays.fill(indexOfCpu, -1);
        for (int i = 0; i < cpus.length; i++) {
            indexOfCpu[cpus[i]] = i;
        }
        ProducerDrops counter = null;
        try {
            epoll = new Epoll(cpus.length);
            open(options, epoll);
            counter = ProducerDrops.of(map);
        } catch (RuntimeException | Error e) {
            close();
            throw e;
        }
        this.drops = counter;
    }

    /**
     * Checks {@code map} and {@code options} for the reader {@code owner} (named in messages), claims the map and
     * opens one event per chosen CPU as the options say, each registered on the set's epoll with its index as
     * tag and stored in the map; on failure releases what it opened and the claim.
     */
    static PerfCpuSet open(BpfMap map, PerfOptions options, String owner) {
        int[] cpus = choose(map, options, owner);
        return named(owner, () -> new PerfCpuSet(map, cpus, options, owner));
    }

    private void open(PerfOptions o, Epoll epoll) {
        long mapBytes = (1L + o.pagesPerCpu()) * Sys.PAGE_SIZE;
        int rw = sys_mman_h.PROT_READ() | sys_mman_h.PROT_WRITE();
        for (int i = 0; i < cpus.length; i++) {
            int cpu = cpus[i];
            fds[i] = new Fd(PerfEvents.open(cpu, o.timestamps(), o.wakeupEvents(), o.wakeupBytes()),
                    "perf event of CPU " + cpu + " for " + map);
            int fd = fds[i].get();
            MemorySegment mapping = Sys.mmap(arena, mapBytes, rw, fd, 0, "perf ring of CPU " + cpu);
            MemorySegment scratch = arena.allocate(PerfLayout.MAX_RECORD_BYTES, 8);
            rings[i] = new PerfCursor(cpu, mapping, scratch, o);
            epoll.add(fd, sys_epoll_h.EPOLLIN(), i);
            PerfEvents.enable(fd, cpu);
            map.update(cpu, fd);
            inMap[i] = true;
        }
    }

    /** The epoll watching the events, each tagged with its ring's index, and a wakeup eventfd. */
    Epoll epoll() {
        return epoll;
    }

    /** The number of CPUs. */
    int size() {
        return cpus.length;
    }

    /** The CPU at {@code index}. */
    int cpu(int index) {
        return cpus[index];
    }

    /** The CPUs of the set, ascending, as an unmodifiable list. */
    List<Integer> cpus() {
        return Arrays.stream(cpus).boxed().toList();
    }

    /** The cursor of the ring at {@code index} (also its epoll tag). */
    PerfCursor ring(int index) {
        return rings[index];
    }

    /** Events the kernel reported lost, all rings together (also after close). */
    long lost() {
        long n = 0;
        for (PerfCursor r : rings) {
            n += r.lost();
        }
        return n;
    }

    /** Failed outputs since this set opened (see {@link PerfBuffer#producerDrops()}); throws once the object closed. */
    long producerDrops() {
        return drops.sinceOpen();
    }

    /** The index of {@code cpu}'s ring; refuses a CPU this set does not read, naming the reader {@code what}. */
    int indexOf(int cpu, String what) {
        int i = cpu >= 0 && cpu < indexOfCpu.length ? indexOfCpu[cpu] : -1;
        if (i < 0) {
            throw new IllegalArgumentException(what + " does not read CPU " + cpu + "; it reads " + cpus());
        }
        return i;
    }

    /**
     * Checks {@code map} and {@code options} for a reader named {@code what} and returns the CPUs to read: those
     * the options ask for (every online one by default) that are online, ascending and distinct. Refuses a map
     * of another type, a CPU the map has no key for, a choice with none online and a watermark above the ring.
     */
    private static int[] choose(BpfMap map, PerfOptions options, String what) {
        if (map.mapType() != MapType.PERF_EVENT_ARRAY) {
            throw new IllegalArgumentException(map + " is not a PERF_EVENT_ARRAY; PerfBuffer reads only those"
                    + (map.mapType() == MapType.RINGBUF ? " (read ring buffers with RingBuffer)" : ""));
        }
        long dataBytes = options.pagesPerCpu() * Sys.PAGE_SIZE;
        if (options.wakeupBytes() > dataBytes) {
            throw new IllegalArgumentException("wakeupBytes " + options.wakeupBytes() + " exceeds the " + dataBytes
                    + "-byte ring of each CPU (" + options.pagesPerCpu() + " pages); lower it or add pages");
        }
        List<Integer> online = named(what, Cpus::online);
        List<Integer> wanted = options.cpus() == null ? online : options.cpus();
        List<Integer> chosen = new ArrayList<>();
        for (int cpu : wanted) {
            if (!online.contains(cpu)) {
                continue;  // an offline CPU runs no programs, and perf_event_open refuses it
            }
            if (cpu >= map.maxEntries()) {
                throw new IllegalArgumentException(map + " has " + map.maxEntries() + " entries but CPU " + cpu
                        + " needs key " + cpu + "; size the map to the number of possible CPUs ("
                        + Cpus.possible().size() + ")");
            }
            chosen.add(cpu);
        }
        if (chosen.isEmpty()) {
            throw new IllegalArgumentException(what + ": none of the CPUs " + wanted + " is online (online: "
                    + online + ")");
        }
        return chosen.stream().mapToInt(Integer::intValue).sorted().distinct().toArray();
    }

    /** Runs a setup step of the reader {@code what}, naming it in a kernel failure that does not yet. */
    private static <T> T named(String what, Supplier<T> step) {
        try {
            return step.get();
        } catch (BpfException e) {
            if (e.getMessage().startsWith(what)) {
                throw e;
            }
            throw new BpfException(what + ": " + e.getMessage(), e);
        }
    }

    /** The SAMPLE records that were still unread in the rings when {@link #close()} ran (0 before). */
    long droppedAtClose() {
        return droppedAtClose;
    }

    /**
     * Releases everything, in the order map entries, disable, count what is unread, unmap, close, claim and
     * epoll; safe to call on a partial set, and more than once.
     */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        if (drops != null) {     // null while the constructor fails
            drops.close();
        }
        for (int i = 0; i < cpus.length; i++) {
            if (inMap[i]) {
                inMap[i] = false;
                try {
                    map.delete(cpus[i]);
                } catch (RuntimeException mapGone) {
                    // the map (or its object) was closed first: its entries went with it
                }
            }
        }
        for (Fd fd : fds) {
            if (fd != null && !fd.isClosed()) {
                PerfEvents.disableQuietly(fd.get());
            }
        }
        long unread = 0;
        for (PerfCursor ring : rings) {
            if (ring != null) {
                unread += ring.unreadSamples();
            }
        }
        droppedAtClose = unread;
        try {
            arena.close();
            for (Fd fd : fds) {
                if (fd != null) {
                    fd.close();
                }
            }
        } finally {
            MapClaims.PERF_READERS.release(claim);
            if (epoll != null) {
                epoll.close();
            }
        }
    }
}
