package dev.panbpf.perf;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;

/**
 * HeldEvents holds the events of one CPU that the ordered reader has read but not yet released: a copy of each
 * payload (a ring's bytes cannot outlive the pass that read them), its timestamp and when it was read, in
 * timestamp order, smallest first (equal stamps in the order read).
 *
 * <p>A CPU's stream is almost always in timestamp order already, so an insertion walks back no step; it walks
 * further only for an output nested inside another on the same CPU (it takes its time first, its space second).
 * Payloads are packed, 8-byte aligned, in native memory in the order they came; the space is reused from the start
 * whenever the queue empties, compacted in place when it fills, and doubled while the events held need more than
 * half of it, up to the limit. Nothing is allocated per event once the space has grown to what the load needs.
 */
final class HeldEvents {
    private static final int FIRST_ENTRIES = 256;
    private static final int FIRST_BYTES = 64 << 10;

    private final long limit;
    private final int maxCapacity;
    private long[] ts = new long[FIRST_ENTRIES];
    /** When each was read (System.nanoTime); kept non-decreasing along the queue, see {@link #add}. */
    private long[] readAt = new long[FIRST_ENTRIES];
    private int[] start = new int[FIRST_ENTRIES];
    private int[] length = new int[FIRST_ENTRIES];
    /** Compaction's scratch: (start, entry) pairs sorted by start. */
    private long[] order = new long[FIRST_ENTRIES];
    /** The queue is entries [head, tail). */
    private int head;
    private int tail;
    /** Entries before this one were read at least the reorder window ago, as far as {@link #expiredUpTo} looked. */
    private int window;
    /** The payload space, native like the rings' so handlers see one kind of segment; and its read-only view. */
    private MemorySegment bytes = Arena.ofAuto().allocate(FIRST_BYTES, Long.BYTES);
    private MemorySegment view = bytes.asReadOnly();
    private int used;
    private long live;
    private int takenStart;
    private int takenLength;

    /** A queue that holds at most {@code limit} payload bytes, unless it holds a single event. */
    HeldEvents(long limit) {
        long cap = Math.max(FIRST_BYTES, Long.highestOneBit(Math.max(1, limit - 1)) << 1);
        this.maxCapacity = (int) Math.min(cap, 1 << 30);
        this.limit = Math.min(limit, maxCapacity);
    }

    /** Whether nothing is held; how many events are; the smallest stamp held (when something is). */
    boolean isEmpty() {
        return head == tail;
    }

    int size() {
        return tail - head;
    }

    long headTs() {
        return ts[head];
    }

    /**
     * Copies the {@code size} payload bytes at {@code offset} in {@code from} in, with the event's timestamp and the
     * time it was read; returns false, holding nothing, when that would take the payloads held past the limit (the
     * caller then releases something and tries again).
     */
    boolean add(MemorySegment from, long offset, long size, long timestamp, long now) {
        int n = (int) size;
        int rounded = (n + 7) & ~7;
        if (live + rounded > limit && !isEmpty()) {
            return false;
        }
        if (used + rounded > bytes.byteSize()) {
            makeRoom(rounded);
        }
        if (tail == ts.length) {
            makeEntryRoom();
        }
        MemorySegment.copy(from, offset, bytes, used, n);
        int q = tail;
        while (q > head && ts[q - 1] > timestamp) {
            q--;
        }
        long read = now;
        if (q < tail) {
            shift(q, q + 1, tail - q);
            // Read later than the event it now precedes, it counts as read when that one was: the read times stay
            // in order for expiredUpTo, and the one it precedes, newer, would release it at that time anyway.
            read = Math.min(now, readAt[q + 1]);
            if (q < window) {
                window++;
            }
        }
        ts[q] = timestamp;
        readAt[q] = read;
        start[q] = used;
        length[q] = n;
        tail++;
        used += rounded;
        live += rounded;
        return true;
    }

    /** Takes the head out of the queue; {@link #taken()} gives its payload until the next {@link #add}. */
    void take() {
        int i = head++;
        takenStart = start[i];
        takenLength = length[i];
        live -= (takenLength + 7) & ~7;
        if (head == tail) {
            head = tail = window = used = 0;  // the payload taken stays in place until an add writes over it
            live = 0;
        }
    }

    /** The read-only segment holding the payload of the event {@link #take()} took last, its offset and size. */
    MemorySegment base() {
        return view;
    }

    long takenOffset() {
        return takenStart;
    }

    long takenSize() {
        return takenLength;
    }

    /**
     * Moves the window mark over the events read at or before {@code cutoff} and returns the largest timestamp
     * among those still held, or {@code floor} if it is larger or there are none.
     */
    long expiredUpTo(long cutoff, long floor) {
        int w = Math.max(window, head);
        while (w < tail && readAt[w] - cutoff <= 0) {
            w++;
        }
        window = w;
        return w > head ? Math.max(floor, ts[w - 1]) : floor;
    }

    /** When the oldest event whose window is still open was read, or Long.MAX_VALUE when there is none. */
    long oldestOpen() {
        int w = Math.max(window, head);
        return w < tail ? readAt[w] : Long.MAX_VALUE;
    }

    private void shift(int from, int to, int n) {
        System.arraycopy(ts, from, ts, to, n);
        System.arraycopy(readAt, from, readAt, to, n);
        System.arraycopy(start, from, start, to, n);
        System.arraycopy(length, from, length, to, n);
    }

    /** Packs the payloads held at the start of the space (doubled first while they would fill more than half). */
    private void makeRoom(int rounded) {
        long cap = bytes.byteSize();
        while (live + rounded > cap / 2 && cap < maxCapacity) {
            cap *= 2;
        }
        MemorySegment into = cap == bytes.byteSize() ? bytes : Arena.ofAuto().allocate(cap, Long.BYTES);
        int count = tail - head;
        for (int k = 0; k < count; k++) {
            order[k] = (long) start[head + k] << 32 | (head + k);
        }
        // In order of place, each payload moves down (or stays), so none is overwritten before it moved.
        Arrays.sort(order, 0, count);
        int at = 0;
        for (int k = 0; k < count; k++) {
            int i = (int) order[k];
            MemorySegment.copy(bytes, start[i], into, at, length[i]);
            start[i] = at;
            at += (length[i] + 7) & ~7;
        }
        bytes = into;
        view = into.asReadOnly();
        used = at;
    }

    /** Moves the queue to the start of the entries when that frees half of them, else doubles them. */
    private void makeEntryRoom() {
        if (head >= ts.length / 2) {
            int n = tail - head;
            shift(head, 0, n);
            window = Math.max(0, window - head);
            head = 0;
            tail = n;
            return;
        }
        int n = ts.length * 2;
        ts = Arrays.copyOf(ts, n);
        readAt = Arrays.copyOf(readAt, n);
        start = Arrays.copyOf(start, n);
        length = Arrays.copyOf(length, n);
        order = new long[n];
    }
}
