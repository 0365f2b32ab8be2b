package dev.panbpf.perf;

import java.lang.foreign.MemorySegment;

/**
 * MergeLane holds the events of one CPU that an ordered reader has read but not yet released: a copy of each
 * payload (the ring's own bytes cannot outlive the read) plus its timestamp, kept in timestamp order.
 *
 * <p>Two views of the same events:
 * <pre>
 * entries (arrival order):  | start | length | ts | arrival | released? |   payload space is freed in this order
 * queue   (timestamp order): | ts | entry number |                          the head is the next to release
 * </pre>
 * A CPU's stream is almost always already in timestamp order, so an insertion walks back zero steps; it walks
 * further only when the kernel wrote a record before an older one (an output nested inside another on the same
 * CPU takes its time first but reserves its space first). Payload space is a ring of 8-byte words on the Java
 * heap; a payload never straddles its end, and the ring doubles when it is full (rarely, never per event).
 */
final class MergeLane {
    private static final int FIRST_ENTRIES = 1024;
    private static final long FIRST_BYTES = 64 * 1024;

    final int cpu;
    /** The largest timestamp read from this CPU so far, or Long.MIN_VALUE before the first. */
    long maxSeen = Long.MIN_VALUE;

    private long[] words;
    private MemorySegment bytes;
    private long byteMask;
    private long allocPos;
    private long freePos;

    private long[] start;
    private int[] length;
    private long[] ts;
    private long[] arrival;
    private boolean[] released;
    private long[] queueTs;
    private long[] queueEntry;
    private int mask;
    private long entryHead;
    private long entryTail;
    private long queueHead;
    /** The first entry whose arrival has not yet been checked against the reorder window. */
    private long windowCursor;

    MergeLane(int cpu) {
        this.cpu = cpu;
        allocateBytes(FIRST_BYTES);
        allocateEntries(FIRST_ENTRIES);
    }

    private void allocateBytes(long size) {
        words = new long[(int) (size / Long.BYTES)];
        bytes = MemorySegment.ofArray(words);
        byteMask = size - 1;
    }

    private void allocateEntries(int n) {
        start = new long[n];
        length = new int[n];
        ts = new long[n];
        arrival = new long[n];
        released = new boolean[n];
        queueTs = new long[n];
        queueEntry = new long[n];
        mask = n - 1;
    }

    boolean isEmpty() {
        return queueHead == entryTail;
    }

    /** Bytes of payload space in use, gaps at the ring's end included. */
    long bufferedBytes() {
        return allocPos - freePos;
    }

    /** Events held. */
    long size() {
        return entryTail - queueHead;
    }

    /** The space a payload of {@code n} bytes would need now, or -1 when it does not fit without growing. */
    private long placeFor(long n) {
        long capacity = byteMask + 1;
        long at = allocPos;
        if ((at & byteMask) + n > capacity) {
            at = (at + capacity) & ~byteMask;  // skip to the ring's start: payloads never straddle its end
        }
        return at + n - freePos <= capacity ? at : -1;
    }

    /** The payload space after growing for {@code rounded} more bytes: room even for a skip to the start. */
    private long grownSize(long rounded) {
        long size = (byteMask + 1) << 1;
        while (size < bufferedBytes() + 2 * rounded) {
            size <<= 1;
        }
        return size;
    }

    /** {@link #add} result: held, and the head of the queue is unchanged. */
    static final int HELD = 0;
    /** {@link #add} result: held, and it became the head of the queue (the smallest timestamp here). */
    static final int NEW_HEAD = 1;
    /** {@link #add} result: not held, because the payload space would have to grow beyond its limit. */
    static final int FULL = -1;

    /**
     * Copies {@code payload} in with its timestamp, growing the payload space up to {@code limit} bytes if need
     * be; returns {@link #HELD}, {@link #NEW_HEAD} or {@link #FULL}.
     */
    int add(MemorySegment payload, long timestamp, long arrivedAt, long limit) {
        long n = payload.byteSize();
        long rounded = (n + 7) & ~7L;
        long at = placeFor(rounded);
        if (at < 0) {
            if (grownSize(rounded) > limit && !isEmpty()) {
                return FULL;
            }
            growBytes(rounded);
            at = placeFor(rounded);
        }
        if (entryTail - entryHead == mask + 1) {
            growEntries();
        }
        MemorySegment.copy(payload, 0, bytes, at & byteMask, n);
        allocPos = at + rounded;
        long e = entryTail++;
        int i = (int) e & mask;
        start[i] = at;
        length[i] = (int) n;
        ts[i] = timestamp;
        arrival[i] = arrivedAt;
        released[i] = false;
        if (timestamp > maxSeen) {
            maxSeen = timestamp;
        }
        // Insert into the timestamp-ordered queue from its tail; equal stamps keep their arrival order.
        long q = e;
        while (q > queueHead && queueTs[(int) (q - 1) & mask] > timestamp) {
            queueTs[(int) q & mask] = queueTs[(int) (q - 1) & mask];
            queueEntry[(int) q & mask] = queueEntry[(int) (q - 1) & mask];
            q--;
        }
        queueTs[(int) q & mask] = timestamp;
        queueEntry[(int) q & mask] = e;
        return q == queueHead ? NEW_HEAD : HELD;
    }

    /** The smallest timestamp held; only when not empty. */
    long headTs() {
        return queueTs[(int) queueHead & mask];
    }

    /**
     * Takes the head out of the queue and returns its payload. The bytes stay untouched until the next
     * {@link #add}, so the caller may hand the slice to a handler after this returns.
     */
    MemorySegment takeHead() {
        int i = (int) queueEntry[(int) queueHead & mask] & mask;
        queueHead++;
        released[i] = true;
        MemorySegment payload = bytes.asSlice(start[i] & byteMask, length[i]);
        // Free payload space in arrival order, as far as the entries are released.
        while (entryHead < entryTail && released[(int) entryHead & mask]) {
            int h = (int) entryHead & mask;
            freePos = start[h] + ((length[h] + 7) & ~7L);
            entryHead++;
        }
        if (entryHead == entryTail) {
            freePos = allocPos;
        }
        return payload;
    }

    /**
     * Moves the window cursor over the entries that arrived at or before {@code cutoff} and returns the largest
     * timestamp among them (or {@code floor} when none): the reorder window has passed for those.
     */
    long expiredUpTo(long cutoff, long floor) {
        long c = Math.max(windowCursor, entryHead);
        long best = floor;
        while (c < entryTail && arrival[(int) c & mask] - cutoff <= 0) {
            best = Math.max(best, ts[(int) c & mask]);
            c++;
        }
        windowCursor = c;
        return best;
    }

    /** The arrival time of the oldest event whose window is still open, or Long.MAX_VALUE. */
    long oldestOpenArrival() {
        long c = Math.max(windowCursor, entryHead);
        return c < entryTail ? arrival[(int) c & mask] : Long.MAX_VALUE;
    }

    private void growBytes(long rounded) {
        MemorySegment old = bytes;
        long oldMask = byteMask;
        allocateBytes(grownSize(rounded));
        // Live payloads lie within one old capacity, so their positions stay distinct (and unsplit) in the new one.
        for (long e = entryHead; e < entryTail; e++) {
            int i = (int) e & mask;
            if (!released[i]) {
                MemorySegment.copy(old, start[i] & oldMask, bytes, start[i] & byteMask, length[i]);
            }
        }
    }

    private void growEntries() {
        long[] s = start;
        int[] l = length;
        long[] t = ts;
        long[] a = arrival;
        boolean[] r = released;
        long[] qt = queueTs;
        long[] qe = queueEntry;
        int old = mask;
        allocateEntries((mask + 1) * 2);
        for (long e = entryHead; e < entryTail; e++) {
            int from = (int) e & old;
            int to = (int) e & mask;
            start[to] = s[from];
            length[to] = l[from];
            ts[to] = t[from];
            arrival[to] = a[from];
            released[to] = r[from];
        }
        for (long q = queueHead; q < entryTail; q++) {
            queueTs[(int) q & mask] = qt[(int) q & old];
            queueEntry[(int) q & mask] = qe[(int) q & old];
        }
    }
}
