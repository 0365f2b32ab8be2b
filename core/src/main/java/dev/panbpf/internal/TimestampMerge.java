package dev.panbpf.internal;

import dev.panbpf.OrderedPerfBuffer;

import java.lang.foreign.MemorySegment;

/**
 * TimestampMerge turns per-CPU event streams into one stream in timestamp order: a k-way merge over the heads of
 * the CPUs' {@link MergeLane}s, with a binary min-heap of the non-empty lanes keyed by their head's timestamp.
 *
 * <p>Release rule. Let {@code seen(c)} be the largest timestamp read from CPU {@code c} so far, and
 * {@code expired} the largest timestamp among events read at least the reorder window {@code W} ago. Held
 * events are released, smallest timestamp first, while the smallest is {@code <= max(min over c of seen(c),
 * expired)}. The first bound is the merge proper: once every CPU has shown a stamp {@code >= t}, no CPU will
 * (in order) produce anything older than {@code t}. The second bounds the delay when some CPU is idle.
 *
 * <p>An event read with a timestamp below the last one released is late: it is handed out at once, flagged,
 * and counted, never dropped. Everything else comes out in non-decreasing timestamp order.
 *
 * <p>Only the consumer thread calls into this class.
 */
public final class TimestampMerge {
    private final MergeLane[] lanes;
    private final int[] laneOfCpu;
    private final long windowNanos;
    private final long maxLaneBytes;
    private final int[] heap;
    private final long[] heapKey;
    private final int[] heapSlot;
    private int heapSize;
    private long lastReleased = Long.MIN_VALUE;
    private long expired = Long.MIN_VALUE;
    private long released;
    private long late;
    private long forced;

    /** A merge over {@code cpus}, holding events up to {@code windowNanos}, and at most {@code maxLaneBytes} per CPU. */
    public TimestampMerge(int[] cpus, long windowNanos, long maxLaneBytes) {
        int max = 0;
        for (int c : cpus) {
            max = Math.max(max, c);
        }
        this.laneOfCpu = new int[max + 1];
        java.util.Arrays.fill(laneOfCpu, -1);
        this.lanes = new MergeLane[cpus.length];
        for (int i = 0; i < cpus.length; i++) {
            lanes[i] = new MergeLane(cpus[i]);
            laneOfCpu[cpus[i]] = i;
        }
        this.windowNanos = windowNanos;
        this.maxLaneBytes = maxLaneBytes;
        this.heap = new int[cpus.length];
        this.heapKey = new long[cpus.length];
        this.heapSlot = new int[cpus.length];
        java.util.Arrays.fill(heapSlot, -1);
    }

    /**
     * Takes one event read at {@code arrivedAt} (System.nanoTime). A late event goes straight to {@code handler};
     * any other is copied and held. Returns the number of events handed out (late ones, and any released early
     * because this CPU's payload space reached its limit).
     */
    public int add(int cpu, MemorySegment payload, long timestamp, long arrivedAt, OrderedPerfBuffer.Handler handler) {
        if (timestamp < lastReleased) {
            late++;
            released++;
            handler.onRecord(cpu, payload, timestamp, true);
            return 1;
        }
        int li = laneOfCpu[cpu];
        MergeLane lane = lanes[li];
        int out = 0;
        while (!lane.fits(payload.byteSize(), maxLaneBytes) && heapSize > 0) {
            forced++;
            out += releaseMin(handler);  // memory bound: release the oldest before the rule allows it
            if (timestamp < lastReleased) {
                return out + add(cpu, payload, timestamp, arrivedAt, handler);
            }
        }
        boolean wasEmpty = lane.isEmpty();
        boolean newHead = lane.add(payload, timestamp, arrivedAt);
        if (wasEmpty) {
            heapInsert(li, timestamp);
        } else if (newHead) {
            heapKey[heapSlot[li]] = timestamp;
            siftUp(heapSlot[li]);
        }
        return out;
    }

    /**
     * Releases, in timestamp order, every held event the rule allows at {@code now}; with {@code all}, every held
     * event. Returns the number handed to {@code handler}.
     */
    public int release(long now, boolean all, OrderedPerfBuffer.Handler handler) {
        long limit = Long.MAX_VALUE;
        if (!all) {
            long minSeen = Long.MAX_VALUE;
            long cutoff = now - windowNanos;
            long exp = expired;
            for (MergeLane lane : lanes) {
                minSeen = Math.min(minSeen, lane.maxSeen);
                exp = lane.expiredUpTo(cutoff, exp);
            }
            expired = exp;
            limit = Math.max(minSeen, exp);
        }
        int n = 0;
        while (heapSize > 0 && heapKey[0] <= limit) {
            n += releaseMin(handler);
        }
        return n;
    }

    private int releaseMin(OrderedPerfBuffer.Handler handler) {
        int li = heap[0];
        MergeLane lane = lanes[li];
        long ts = heapKey[0];
        MemorySegment payload = lane.takeHead();
        if (lane.isEmpty()) {
            heapRemoveTop();
        } else {
            heapKey[0] = lane.headTs();
            siftDown(0);
        }
        lastReleased = ts;
        released++;
        handler.onRecord(lane.cpu, payload, ts, false);
        return 1;
    }

    /** When the next held event's window closes (System.nanoTime), or Long.MAX_VALUE when nothing waits on one. */
    public long nextDeadline() {
        long oldest = Long.MAX_VALUE;
        for (MergeLane lane : lanes) {
            long a = lane.oldestOpenArrival();
            if (a != Long.MAX_VALUE && (oldest == Long.MAX_VALUE || a - oldest < 0)) {
                oldest = a;
            }
        }
        return oldest == Long.MAX_VALUE || heapSize == 0 ? Long.MAX_VALUE : oldest + windowNanos;
    }

    /** Events held now. */
    public long held() {
        long n = 0;
        for (MergeLane lane : lanes) {
            n += lane.size();
        }
        return n;
    }

    /** Events handed out so far, late ones included. */
    public long released() {
        return released;
    }

    /** Events handed out late (out of order, flagged). */
    public long late() {
        return late;
    }

    /** Events released before the rule allowed because a CPU's payload space reached its limit. */
    public long forced() {
        return forced;
    }

    // ------------------------------------------------------------------ min-heap of lanes by head timestamp

    private void heapInsert(int lane, long key) {
        int i = heapSize++;
        heap[i] = lane;
        heapKey[i] = key;
        heapSlot[lane] = i;
        siftUp(i);
    }

    private void heapRemoveTop() {
        heapSlot[heap[0]] = -1;
        int last = --heapSize;
        if (last > 0) {
            heap[0] = heap[last];
            heapKey[0] = heapKey[last];
            heapSlot[heap[0]] = 0;
            siftDown(0);
        }
    }

    private void siftUp(int i) {
        int lane = heap[i];
        long key = heapKey[i];
        while (i > 0) {
            int parent = (i - 1) >>> 1;
            if (heapKey[parent] <= key) {
                break;
            }
            move(parent, i);
            i = parent;
        }
        heap[i] = lane;
        heapKey[i] = key;
        heapSlot[lane] = i;
    }

    private void siftDown(int i) {
        int lane = heap[i];
        long key = heapKey[i];
        int n = heapSize;
        while (true) {
            int child = 2 * i + 1;
            if (child >= n) {
                break;
            }
            if (child + 1 < n && heapKey[child + 1] < heapKey[child]) {
                child++;
            }
            if (heapKey[child] >= key) {
                break;
            }
            move(child, i);
            i = child;
        }
        heap[i] = lane;
        heapKey[i] = key;
        heapSlot[lane] = i;
    }

    private void move(int from, int to) {
        heap[to] = heap[from];
        heapKey[to] = heapKey[from];
        heapSlot[heap[to]] = to;
    }
}
