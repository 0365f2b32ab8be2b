package dev.panbpf.perf;

import dev.panbpf.internal.Sys;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * FuzzedRing is one CPU's perf ring in ordinary memory for {@link PerfCursorFuzzTest}: a random valid stream
 * written as the kernel writes it (samples of random sizes in one of three payload modes, some wrapping the end;
 * LOST and other records), the events a reader must hand out for it, and at most one injected corruption with
 * the events that must still come out before it.
 */
final class FuzzedRing {
    private static final int[] OTHER_TYPES = {1, 3, 4, 5, 6, 7, 8, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20};

    /** What a reader hands out, in stream order per CPU: a sample's bytes, or a LOST count. */
    record Event(int cpu, boolean lost, long count, byte[] bytes) {
        @Override
        public boolean equals(Object o) {
            return o instanceof Event e && e.cpu == cpu && e.lost == lost && e.count == count
                    && Arrays.equals(e.bytes, bytes);
        }

        @Override
        public int hashCode() {
            return Long.hashCode(count) * 31 + Arrays.hashCode(bytes);
        }

        @Override
        public String toString() {
            return lost ? "LOST(" + count + ")" : "SAMPLE(" + bytes.length + " bytes)";
        }
    }

    /** HandlerFault is what the fuzz's handlers throw now and then: the reader must count the record as read. */
    static final class HandlerFault extends RuntimeException {
        HandlerFault() {
            super("handler fault", null, false, false);
        }
    }

    final int cpu;
    final Random r;
    final int dataSize;
    final boolean timestamps;
    final int mode;          // 0: whole raw area, 1: payloadSize, 2: payloadLength from byte 0
    final int fixed;
    final MemorySegment mapping;
    final MemorySegment data;
    final MemorySegment scratch;
    final PerfCursor reader;
    /** Where the cursor reports LOST records (set by the test once it has made its collector). */
    LostHandler onLost = (c, n) -> { };
    final long start;
    long head;
    /** Per record: position, size, kind (S/L/O), and the event it gives. */
    final List<long[]> records = new ArrayList<>();
    final List<Event> events = new ArrayList<>();
    /** Events expected for sure: those of the records before the corruption. */
    List<Event> expected;
    /** A head to publish after everything was read (the head going back), or -1. */
    long laterHead = -1;
    String corruption = "none";

    FuzzedRing(Arena arena, int cpu, Random r, boolean forceTimestamps) {
        this.cpu = cpu;
        this.r = r;
        this.dataSize = 1 << (6 + r.nextInt(5));
        this.timestamps = forceTimestamps || r.nextBoolean();
        this.mode = r.nextInt(3);
        this.fixed = r.nextInt(41);
        mapping = arena.allocate(Sys.PAGE_SIZE + dataSize, Sys.PAGE_SIZE);
        data = mapping.asSlice(Sys.PAGE_SIZE, dataSize);
        byte[] stale = new byte[dataSize];
        r.nextBytes(stale);
        MemorySegment.copy(MemorySegment.ofArray(stale), 0, data, 0, dataSize);
        mapping.set(JAVA_LONG, PerfLayout.DATA_OFFSET, Sys.PAGE_SIZE);
        mapping.set(JAVA_LONG, PerfLayout.DATA_SIZE, dataSize);
        long[] starts = {0, 8L * r.nextInt(64), 8L * r.nextInt(dataSize / 8) + (long) dataSize * r.nextInt(9),
                (1L << 40) + 8L * r.nextInt(dataSize), (1L << 62) - 8L * r.nextInt(dataSize / 8 + 1)};
        start = starts[r.nextInt(starts.length)];
        head = start;
        mapping.set(JAVA_LONG, PerfLayout.DATA_TAIL, start);
        mapping.set(JAVA_LONG, PerfLayout.DATA_HEAD, start);
        scratch = arena.allocate(PerfLayout.MAX_RECORD_BYTES, 8);
        PerfOptions o = PerfOptions.defaults().timestamps(timestamps).onLost((c, n) -> onLost.onLost(c, n));
        o = mode == 1 ? o.payloadSize(fixed) : mode == 2
                ? o.payloadLength(raw -> raw.byteSize() == 0 ? -1 : Byte.toUnsignedInt(raw.get(JAVA_BYTE, 0))) : o;
        reader = new PerfCursor(cpu, mapping, scratch, o);
        fill();
        corrupt();
        mapping.set(JAVA_LONG, PerfLayout.DATA_HEAD, head);
    }

    void put(long pos, byte[] b) {
        for (int i = 0; i < b.length; i++) {
            data.set(JAVA_BYTE, (pos + i) & (dataSize - 1), b[i]);
        }
    }

    void putLong(long pos, long v, int bytes) {
        byte[] b = new byte[bytes];
        for (int i = 0; i < bytes; i++) {
            b[i] = (byte) (v >>> (8 * i));   // little-endian, as the machines this runs on
        }
        put(pos, b);
    }

    void header(long pos, int type, int size) {
        putLong(pos, type, 4);
        putLong(pos + 4, r.nextInt(1 << 16), 2);   // misc: means nothing to the reader
        putLong(pos + 6, size, 2);
    }

    private void fill() {
        int budget = r.nextInt(4) == 0 ? r.nextInt(dataSize + 1) : dataSize;
        long used = 0;
        while (true) {
            int kind = r.nextInt(100);
            if (kind < 70) {
                int n = mode == 1 ? fixed : mode == 2 ? 1 + r.nextInt(60) : r.nextInt(61);
                long raw = PerfLayout.rawSizeFor(n);
                int size = (int) (PerfLayout.rawSizeOffset(timestamps) + 4 + raw);
                if (used + size > budget) {
                    break;
                }
                long pos = head;
                header(pos, PerfLayout.RECORD_SAMPLE, size);
                long time = 1_000 + records.size();
                if (timestamps) {
                    putLong(pos + PerfLayout.SAMPLE_TIME, time, 8);
                }
                long at = pos + PerfLayout.rawSizeOffset(timestamps);
                putLong(at, raw, 4);
                byte[] area = new byte[(int) raw];
                r.nextBytes(area);
                if (mode == 2) {
                    area[0] = (byte) n;
                }
                put(at + 4, area);
                byte[] delivered = mode == 0 ? area : Arrays.copyOf(area, n);
                add(pos, size, 'S', new Event(cpu, false, 0, delivered));
            } else if (kind < 85) {
                int size = r.nextInt(4) == 0 ? 32 : 24;
                if (used + size > budget) {
                    break;
                }
                long count = 1 + r.nextInt(1000);
                header(head, PerfLayout.RECORD_LOST, size);
                putLong(head + 8, r.nextLong(), 8);
                putLong(head + 16, count, 8);
                add(head, size, 'L', new Event(cpu, true, count, null));
            } else {
                int size = 8 * (1 + r.nextInt(8));
                if (used + size > budget) {
                    break;
                }
                header(head, OTHER_TYPES[r.nextInt(OTHER_TYPES.length)], size);
                add(head, size, 'O', null);
            }
            used += records.getLast()[1];
        }
    }

    private void add(long pos, int size, char kind, Event e) {
        records.add(new long[]{pos, size, kind});
        if (e != null) {
            events.add(e);
        }
        head = pos + size;
    }

    /** The events of the records before record {@code k}. */
    private List<Event> eventsBefore(int k) {
        int n = 0;
        for (int i = 0; i < k; i++) {
            n += records.get(i)[2] == 'O' ? 0 : 1;
        }
        return events.subList(0, n);
    }

    private void corrupt() {
        expected = events;
        int what = r.nextInt(10);
        int k = records.isEmpty() ? -1 : r.nextInt(records.size());
        if (what >= 4 && what <= 7 && k < 0) {
            return;
        }
        switch (what) {
            case 0, 1, 2 -> { }
            case 3 -> {  // the head moves forward: into stale bytes, past the data area, or unaligned
                long[] deltas = {8L * (1 + r.nextInt(dataSize / 8)), (long) dataSize + 8 * (1 + r.nextInt(4)),
                        1L << 40, 1 + r.nextInt(7), -8L * (1 + r.nextInt(4))};
                long delta = deltas[r.nextInt(deltas.length)];
                long was = head;
                head += delta;
                corruption = "head " + was + " -> " + head;
                boolean sane = delta > 0 && (delta & 7) == 0 && head - start <= dataSize;
                expected = sane ? events : List.of();
            }
            case 4 -> {  // a record's size
                long[] rec = records.get(k);
                int[] sizes = {0, 8, 16, 24, (int) rec[1] + 8, (int) rec[1] - 8, r.nextInt(1 << 16),
                        8 * r.nextInt(2 * dataSize / 8 + 1), 0xFFF8, 4};
                int size = sizes[r.nextInt(sizes.length)] & 0xFFFF;
                putLong(rec[0] + 6, size, 2);
                corruption = "size of record " + k + " " + rec[1] + " -> " + size;
                expected = eventsBefore(k);
            }
            case 5 -> {  // a record's type
                int[] types = {PerfLayout.RECORD_SAMPLE, PerfLayout.RECORD_LOST, 0, r.nextInt()};
                int type = types[r.nextInt(types.length)];
                putLong(records.get(k)[0], type, 4);
                corruption = "type of record " + k + " -> " + type;
                expected = eventsBefore(k);
            }
            case 6 -> {  // a sample's raw size, or the length its payload declares
                long[] rec = records.get(k);
                if (rec[2] != 'S') {
                    return;
                }
                long at = rec[0] + PerfLayout.rawSizeOffset(timestamps);
                if (mode == 2 && r.nextBoolean()) {
                    putLong(at + 4, r.nextInt(256), 1);
                    corruption = "declared length of record " + k;
                } else {
                    long[] raws = {0, 4, rec[1] - 4, rec[1], 0xFFFF_FFFFL, r.nextInt(1 << 16)};
                    putLong(at, raws[r.nextInt(raws.length)], 4);
                    corruption = "raw size of record " + k;
                }
                expected = eventsBefore(k);
            }
            case 7 -> {  // the head stops short, at or inside a record
                long cut = records.get(k)[0] + 8L * r.nextInt((int) (records.get(k)[1] / 8) + 1);
                int whole = 0;
                while (whole < records.size() && records.get(whole)[0] + records.get(whole)[1] <= cut) {
                    whole++;
                }
                head = cut;
                corruption = "head cut to " + cut;
                expected = eventsBefore(whole);
            }
            case 8 -> {  // the head goes back after everything was read
                laterHead = start + 8L * r.nextInt((int) ((head - start) / 8) + 1) - 8L * r.nextInt(2);
                corruption = "head back to " + laterHead + " later";
            }
            default -> {  // the tail: unaligned, ahead of the head, or too far behind it
                long[] tails = {start + 1 + r.nextInt(7), head + 8 * (1 + r.nextInt(4)), head - dataSize - 8};
                long tail = tails[r.nextInt(tails.length)];
                mapping.set(JAVA_LONG, PerfLayout.DATA_TAIL, tail);
                corruption = "tail " + start + " -> " + tail;
                expected = List.of();
            }
        }
    }

    long tail() {
        return mapping.get(JAVA_LONG, PerfLayout.DATA_TAIL);
    }

    long publishedHead() {
        return mapping.get(JAVA_LONG, PerfLayout.DATA_HEAD);
    }

    boolean holds(MemorySegment p) {
        long a = p.address();
        long end = a + p.byteSize();
        return (a >= data.address() && end <= data.address() + dataSize)
                || (a >= scratch.address() && end <= scratch.address() + scratch.byteSize());
    }

    String describe() {
        return "CPU " + cpu + ": " + dataSize + "-byte ring from " + start + ", timestamps " + timestamps
                + ", mode " + mode + (mode == 1 ? " (" + fixed + " bytes)" : "") + ", " + records.size()
                + " records, corruption: " + corruption;
    }
}
