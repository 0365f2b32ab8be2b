package dev.panbpf.perf;

import dev.panbpf.internal.Sys;
import org.junit.jupiter.api.AfterEach;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * PerfRingTestBase writes perf rings into ordinary memory, byte for byte as the kernel would, for the tests of the
 * record parser: a metadata page, then a small data area that records wrap around. No kernel needed.
 */
abstract class PerfRingTestBase {
    static final int DATA = 256;
    static final byte STALE = (byte) 0xEE;

    final Arena arena = Arena.ofConfined();
    final List<Seen> seen = new ArrayList<>();
    final List<long[]> lostSeen = new ArrayList<>();

    record Seen(int cpu, byte[] bytes, long time, long address) { }

    @AfterEach
    void free() {
        arena.close();
    }

    /** Writes records into a fake mapping: metadata page, then a small data area that records wrap around. */
    final class FakeRing {
        final MemorySegment mapping = arena.allocate(Sys.PAGE_SIZE + DATA, Sys.PAGE_SIZE);
        final MemorySegment data = mapping.asSlice(Sys.PAGE_SIZE, DATA);
        final boolean timestamps;
        long head;

        FakeRing(boolean timestamps, long start) {
            this.timestamps = timestamps;
            mapping.set(JAVA_LONG, PerfLayout.DATA_OFFSET, Sys.PAGE_SIZE);
            mapping.set(JAVA_LONG, PerfLayout.DATA_SIZE, DATA);
            mapping.set(JAVA_LONG, PerfLayout.DATA_TAIL, start);
            data.fill(STALE);
            head = start;
            publish();
        }

        void put(long at, byte[] bytes) {
            for (int i = 0; i < bytes.length; i++) {
                data.set(JAVA_BYTE, (at + i) & (DATA - 1), bytes[i]);
            }
        }

        void putLong(long at, long v) {
            MemorySegment s = arena.allocate(8);
            s.set(JAVA_LONG, 0, v);
            put(at, s.toArray(JAVA_BYTE));
        }

        void putInt(long at, int v) {
            MemorySegment s = arena.allocate(4);
            s.set(JAVA_INT, 0, v);
            put(at, s.toArray(JAVA_BYTE));
        }

        void header(int type, int size) {
            putInt(head, type);
            putInt(head + 4, size << 16);  // u16 misc = 0, u16 size
        }

        /** A sample as the kernel writes it; the padding after the payload is left as it was (stale). */
        void sample(byte[] payload, long time) {
            long raw = PerfLayout.rawSizeFor(payload.length);
            int size = (int) (PerfLayout.rawSizeOffset(timestamps) + 4 + raw);
            header(PerfLayout.RECORD_SAMPLE, size);
            long at = head + PerfLayout.rawSizeOffset(timestamps);
            if (timestamps) {
                putLong(head + PerfLayout.SAMPLE_TIME, time);
            }
            putInt(at, (int) raw);
            put(at + 4, payload);
            head += size;
        }

        void lost(long count) {
            header(PerfLayout.RECORD_LOST, 24);
            putLong(head + 8, 77);
            putLong(head + 16, count);
            head += 24;
        }

        void other(int type, int size) {
            header(type, size);
            head += size;
        }

        void publish() {
            mapping.set(JAVA_LONG, PerfLayout.DATA_HEAD, head);
        }

        long tail() {
            return mapping.get(JAVA_LONG, PerfLayout.DATA_TAIL);
        }

        PerfRing reader(int fixedSize, java.util.function.ToIntFunction<MemorySegment> length) {
            return new PerfRing(3, mapping, arena.allocate(PerfLayout.MAX_RECORD_BYTES, 8), timestamps, fixedSize,
                    length);
        }

        int read(PerfRing ring) {
            return ring.read((cpu, p, t) -> seen.add(new Seen(cpu, p.toArray(JAVA_BYTE), t, p.address())),
                    (cpu, n) -> lostSeen.add(new long[]{cpu, n}));
        }

        boolean inData(long address) {
            return address >= data.address() && address < data.address() + DATA;
        }
    }

    static byte[] bytes(int n, int seed) {
        byte[] b = new byte[n];
        for (int i = 0; i < n; i++) {
            b[i] = (byte) (seed + i);
        }
        return b;
    }

}
