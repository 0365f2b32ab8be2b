package dev.panbpf.perf;

import dev.panbpf.internal.Sys;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * FakeRing is one CPU's perf ring in ordinary memory, written byte for byte as the kernel writes it (a metadata
 * page, then a data area that records wrap around), for tests of the cursor and the merge without a kernel.
 * Unwritten bytes hold {@link #STALE}, as padding holds whatever the ring held before.
 */
final class FakeRing {
    static final byte STALE = (byte) 0xEE;

    final Arena arena;
    final int cpu;
    final int dataSize;
    final boolean timestamps;
    final MemorySegment mapping;
    final MemorySegment data;
    long head;

    FakeRing(Arena arena, int cpu, int dataSize, boolean timestamps, long start) {
        this.arena = arena;
        this.cpu = cpu;
        this.dataSize = dataSize;
        this.timestamps = timestamps;
        mapping = arena.allocate(Sys.PAGE_SIZE + dataSize, Sys.PAGE_SIZE);
        data = mapping.asSlice(Sys.PAGE_SIZE, dataSize);
        data.fill(STALE);
        mapping.set(JAVA_LONG, PerfLayout.DATA_OFFSET, Sys.PAGE_SIZE);
        mapping.set(JAVA_LONG, PerfLayout.DATA_SIZE, dataSize);
        mapping.set(JAVA_LONG, PerfLayout.DATA_TAIL, start);
        head = start;
        publish();
    }

    /** A cursor over this ring, reading as {@code options} say (timestamps as this ring was written). */
    PerfCursor cursor(PerfOptions options) {
        return new PerfCursor(cpu, mapping, arena.allocate(PerfLayout.MAX_RECORD_BYTES, 8),
                options.timestamps(timestamps));
    }

    void put(long at, byte[] bytes) {
        for (int i = 0; i < bytes.length; i++) {
            data.set(JAVA_BYTE, (at + i) & (dataSize - 1), bytes[i]);
        }
    }

    /** Writes the low {@code bytes} bytes of {@code v} at {@code at}, little-endian as the machines this runs on. */
    void putLong(long at, long v, int bytes) {
        for (int i = 0; i < bytes; i++) {
            data.set(JAVA_BYTE, (at + i) & (dataSize - 1), (byte) (v >>> (8 * i)));
        }
    }

    void putLong(long at, long v) {
        putLong(at, v, 8);
    }

    void putInt(long at, int v) {
        putLong(at, v, 4);
    }

    /** A header at the head: u32 type, u16 misc 0, u16 size. */
    void header(int type, int size) {
        putInt(head, type);
        putInt(head + 4, size << 16);
    }

    /** A sample as the kernel writes it; the padding after the payload is left as it was (stale). */
    FakeRing sample(byte[] payload, long time) {
        long raw = PerfLayout.rawSizeFor(payload.length);
        int size = (int) (PerfLayout.rawSizeOffset(timestamps) + 4 + raw);
        header(PerfLayout.RECORD_SAMPLE, size);
        if (timestamps) {
            putLong(head + PerfLayout.SAMPLE_TIME, time);
        }
        long at = head + PerfLayout.rawSizeOffset(timestamps);
        putInt(at, (int) raw);
        put(at + 4, payload);
        head += size;
        return this;
    }

    FakeRing lost(long count) {
        header(PerfLayout.RECORD_LOST, 24);
        putLong(head + 8, 77);
        putLong(head + 16, count);
        head += 24;
        return this;
    }

    /** A record of {@code type} and {@code size} with only its header written (the rest is stale). */
    FakeRing other(int type, int size) {
        header(type, size);
        head += size;
        return this;
    }

    FakeRing publish() {
        mapping.set(JAVA_LONG, PerfLayout.DATA_HEAD, head);
        return this;
    }

    long tail() {
        return mapping.get(JAVA_LONG, PerfLayout.DATA_TAIL);
    }

    void setTail(long tail) {
        mapping.set(JAVA_LONG, PerfLayout.DATA_TAIL, tail);
    }

    boolean inData(long address) {
        return address >= data.address() && address < data.address() + dataSize;
    }

    static byte[] bytes(int n, int seed) {
        byte[] b = new byte[n];
        for (int i = 0; i < n; i++) {
            b[i] = (byte) (seed + i);
        }
        return b;
    }
}
