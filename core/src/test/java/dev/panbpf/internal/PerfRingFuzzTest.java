package dev.panbpf.internal;

import dev.panbpf.BpfException;
import dev.panbpf.OrderedPerfBuffer;
import dev.panbpf.PerfBuffer;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static org.junit.jupiter.api.Assertions.*;

/**
 * A seeded fuzz of the two perf record readers, {@link PerfRing#read} and the ordered reader's {@link PerfCursor}
 * (through {@link TimestampMerge}), over rings this test writes itself: random valid streams (samples of random
 * sizes, some wrapping the end, LOST and other records) into which one corruption is injected (a record's size,
 * type, raw size or declared length; the head or tail position), plus handlers that sometimes throw. Every run
 * must end within a bounded number of reads, raising nothing but BpfException (and the handler's own), handing
 * out payloads only from the data area or the scratch copy, and delivering every record before the corruption
 * exactly once, in order.
 *
 * <p>Reproduce a failure with {@code -Dpanbpf.fuzz.seed=<the seed printed> -Dpanbpf.fuzz.cases=1}.
 */
class PerfRingFuzzTest {
    private static final long BASE_SEED = Long.getLong("panbpf.fuzz.seed", 0x5EED_2026L);
    private static final int CASES = Integer.getInteger("panbpf.fuzz.cases", 10_000);
    /** Reads allowed per run: every read makes progress (8 bytes at least) or ends the run. */
    private static final int MAX_READS = 2000;
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

    static final class HandlerFault extends RuntimeException {
        HandlerFault() {
            super("handler fault", null, false, false);
        }
    }

    /** One CPU's ring: a random valid stream, its expected events, and at most one corruption. */
    static final class Ring {
        final int cpu;
        final Random r;
        final int dataSize;
        final boolean timestamps;
        final int mode;          // 0: whole raw area, 1: payloadSize, 2: payloadLength from byte 0
        final int fixed;
        final MemorySegment mapping;
        final MemorySegment data;
        final MemorySegment scratch;
        final PerfRing reader;
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

        Ring(Arena arena, int cpu, Random r, boolean forceTimestamps) {
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
            reader = new PerfRing(cpu, mapping, scratch, timestamps, mode == 1 ? fixed : -1,
                    mode == 2 ? raw -> raw.byteSize() == 0 ? -1 : Byte.toUnsignedInt(raw.get(JAVA_BYTE, 0)) : null);
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

    /** Events seen, with a handler that records each and sometimes throws. */
    static final class Seen {
        final List<Event> events = new ArrayList<>();
        final Random r;
        final Ring[] rings;
        long handled;

        Seen(Random r, Ring... rings) {
            this.r = r;
            this.rings = rings;
        }

        Ring ring(int cpu) {
            for (Ring ring : rings) {
                if (ring.cpu == cpu) {
                    return ring;
                }
            }
            throw new AssertionError("no CPU " + cpu);
        }

        void sample(int cpu, MemorySegment p) {
            assertTrue(ring(cpu).holds(p), "payload outside the data area and scratch: " + p);
            events.add(new Event(cpu, false, 0, p.toArray(JAVA_BYTE)));
            handled++;
            if (r.nextInt(40) == 0) {
                throw new HandlerFault();
            }
        }

        void lost(int cpu, long n) {
            events.add(new Event(cpu, true, n, null));
        }

        List<Event> of(int cpu) {
            return events.stream().filter(e -> e.cpu() == cpu).toList();
        }
    }

    /** Reads until a read completes with every ring drained, or fails; returns the reads it took. */
    private static int readToTheEnd(Runnable read, Ring... rings) {
        for (int reads = 1; reads <= MAX_READS; reads++) {
            boolean threw = false;
            try {
                read.run();
            } catch (BpfException | HandlerFault expected) {
                threw = true;
            }
            boolean drained = true;
            for (Ring ring : rings) {
                drained &= ring.tail() == ring.publishedHead();
            }
            if (!threw && drained) {
                boolean later = false;
                for (Ring ring : rings) {
                    if (ring.laterHead >= 0) {
                        ring.mapping.set(JAVA_LONG, PerfLayout.DATA_HEAD, ring.laterHead);
                        ring.laterHead = -1;
                        later = true;
                    }
                }
                if (!later) {
                    return reads;
                }
            }
        }
        throw new AssertionError("no end after " + MAX_READS + " reads");
    }

    private static void check(Seen seen, Ring ring) {
        List<Event> got = seen.of(ring.cpu);
        assertTrue(got.size() >= ring.expected.size() && got.subList(0, ring.expected.size()).equals(ring.expected),
                "expected first " + ring.expected + "\n got " + got);
        if (ring.corruption.equals("none")) {
            assertEquals(ring.events, got, "an intact stream is delivered exactly");
        }
    }

    private static void runCases(String what, CaseBody body) {
        for (int i = 0; i < CASES; i++) {
            long seed = BASE_SEED + i;
            try (Arena arena = Arena.ofConfined()) {
                body.run(arena, new Random(seed), seed);
            } catch (Throwable t) {
                throw new AssertionError(what + " failed for seed " + seed + " (rerun with -Dpanbpf.fuzz.seed="
                        + seed + " -Dpanbpf.fuzz.cases=1): " + t, t);
            }
        }
    }

    @FunctionalInterface
    interface CaseBody {
        void run(Arena arena, Random r, long seed) throws Exception;
    }

    @Test
    void theRingReaderEndsEveryCorruptStreamWithItsValidPrefixDeliveredOnceAndNoRawException() {
        runCases("PerfRing.read", (arena, r, seed) -> {
            Ring ring = new Ring(arena, 3, r, false);
            Seen seen = new Seen(r, ring);
            PerfBuffer.Handler handler = (cpu, p, t) -> seen.sample(cpu, p);
            PerfBuffer.LostHandler onLost = seen::lost;
            try {
                readToTheEnd(() -> ring.reader.read(handler, onLost), ring);
                check(seen, ring);
                assertEquals(seen.handled, ring.reader.delivered(), "delivered counts each handler call once");
                assertEquals(0, ring.reader.read(handler, onLost), "a drained ring stays drained");
            } catch (Throwable t) {
                throw new AssertionError(ring.describe() + ": " + t.getMessage(), t);
            }
        });
    }

    @Test
    void theOrderedCursorEndsEveryCorruptStreamWithItsValidPrefixDeliveredOnceAndNoRawException() {
        runCases("PerfCursor", (arena, r, seed) -> {
            Ring a = new Ring(arena, 0, r, true);
            Ring b = new Ring(arena, 1, r, true);
            Seen seen = new Seen(r, a, b);
            OrderedPerfBuffer.Handler handler = (cpu, p, ts, late) -> seen.sample(cpu, p);
            TimestampMerge merge = new TimestampMerge(new PerfRing[]{a.reader, b.reader}, seen::lost, 0, 1 << 20);
            try {
                readToTheEnd(() -> merge.release(0, true, handler), a, b);
                check(seen, a);
                check(seen, b);
                assertEquals(seen.handled, a.reader.delivered() + b.reader.delivered());
                assertEquals(0, merge.held());
                assertEquals(0, merge.release(0, true, handler), "drained rings stay drained");
            } catch (Throwable t) {
                throw new AssertionError(a.describe() + "; " + b.describe() + ": " + t.getMessage(), t);
            }
        });
    }
}
