package dev.panbpf.ringbuf;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * FakeRing imitates a kernel ring buffer in ordinary memory, so tests can set up what the kernel will not produce on
 * demand (a BUSY head record, a corrupt length, a position going backwards). It plays the kernel producer: reserve
 * writes {@code len | BUSY} and moves producer_pos, commit rewrites the header. The kernel's double mapping of the
 * data pages is imitated by writing every byte to both copies. For a user ring ({@link #writer()}) the roles swap:
 * the test plays the kernel's consumer and moves consumer_pos.
 */
final class FakeRing implements AutoCloseable {
    final Arena arena = Arena.ofShared();   // shared: some tests commit from another thread
    final long size;
    final MemorySegment consumerPage;
    final MemorySegment producerPage;
    final MemorySegment data;
    long producerPos;

    FakeRing(long size) {
        this.size = size;
        this.consumerPage = arena.allocate(4096, 4096);
        this.producerPage = arena.allocate(4096 + 2 * size, 4096);
        this.data = producerPage.asSlice(4096, 2 * size);
    }

    /** A reader over this ring, as RingBuffer would make one (read-only producer side). */
    RingReader reader() {
        return new RingReader("ring buffer 'fake'", consumerPage, producerPage.asReadOnly(), data.asReadOnly(), size);
    }

    /**
     * A writer over this ring, as UserRingBuffer would make one: the test plays the kernel's consumer, so the
     * consumer page is read-only to the writer and moved with {@link #setConsumerPos}.
     */
    RingWriter writer() {
        return new RingWriter("user ring buffer 'fake'", consumerPage.asReadOnly(), producerPage, data, size);
    }

    /** Moves consumer_pos, as the kernel does when it has drained up to {@code pos}. */
    void setConsumerPos(long pos) {
        consumerPage.set(ValueLayout.JAVA_LONG, 0, pos);
    }

    /** Starts both positions at {@code pos}, as if that many bytes had gone through the ring already. */
    void startAt(long pos) {
        setConsumerPos(pos);
        setProducerPos(pos);
    }

    /** Reserves a record of {@code length} payload bytes like the kernel; returns its position. */
    long reserve(int length) {
        long pos = producerPos;
        writeHeader(pos, length | RingLayout.BUSY_BIT);
        setProducerPos(pos + RingLayout.stride(length));
        return pos;
    }

    /** Writes {@code payload} into the record at {@code pos}. */
    void fill(long pos, byte[] payload) {
        for (int i = 0; i < payload.length; i++) {
            putByte(pos + RingLayout.HEADER_SIZE + i, payload[i]);
        }
    }

    /** Commits the record at {@code pos}: clears BUSY, sets DISCARD when asked. */
    void commit(long pos, boolean discard) {
        int len = header(pos) & RingLayout.LENGTH_MASK;
        writeHeader(pos, len | (discard ? RingLayout.DISCARD_BIT : 0));
    }

    /** Reserves, fills and commits one record; returns its position. */
    long submit(byte[] payload) {
        long pos = reserve(payload.length);
        fill(pos, payload);
        commit(pos, false);
        return pos;
    }

    /** Reserves and discards a record of {@code length} bytes. */
    long discard(int length) {
        long pos = reserve(length);
        commit(pos, true);
        return pos;
    }

    void setProducerPos(long pos) {
        producerPos = pos;
        producerPage.set(ValueLayout.JAVA_LONG, 0, pos);
    }

    long consumerPos() {
        return consumerPage.get(ValueLayout.JAVA_LONG, 0);
    }

    int header(long pos) {
        return data.get(ValueLayout.JAVA_INT, pos & (size - 1));
    }

    void writeHeader(long pos, int len) {
        long off = pos & (size - 1);
        data.set(ValueLayout.JAVA_INT, off, len);
        data.set(ValueLayout.JAVA_INT, off + size, len);
    }

    private void putByte(long pos, byte b) {
        long off = pos & (size - 1);
        data.set(ValueLayout.JAVA_BYTE, off, b);
        data.set(ValueLayout.JAVA_BYTE, off + size, b);
    }

    /** A payload of {@code length} bytes that starts with {@code id} (8 bytes) and continues with id + i. */
    static byte[] payload(long id, int length) {
        byte[] b = new byte[length];
        for (int i = 0; i < length; i++) {
            b[i] = (byte) (i < 8 ? id >>> (8 * i) : id + i);
        }
        return b;
    }

    @Override
    public void close() {
        arena.close();
    }
}
