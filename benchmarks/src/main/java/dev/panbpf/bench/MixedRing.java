package dev.panbpf.bench;

import dev.panbpf.ringbuf.RecordHandler;
import dev.panbpf.ringbuf.RingBuffer;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

import java.lang.foreign.MemorySegment;

/**
 * MixedRing holds the states of {@link DrainBenchmark}'s mixed-size ring rows: rings filled with records whose size
 * changes from each record to the next ({@link DrainBenchmark#MIXED}), the stream a reader's fast path for runs of
 * one length cannot help. Each handler reads the first 8 bytes and the last byte of the size the record has.
 */
public final class MixedRing {
    private MixedRing() { }

    /** Java: panbpf's RingBuffer on a ring filled with records of {@link DrainBenchmark#MIXED} sizes. */
    @State(Scope.Thread)
    public static class Java extends Filled implements RecordHandler {
        RingBuffer ring;

        @Setup(Level.Trial)
        public void open() {
            startProducer(Producer.RING);
            ring = RingBuffer.of(producer.ring());
        }

        @TearDown(Level.Trial)
        public void close() {
            ring.close();
            producer.close();
        }

        @Override
        public boolean onRecord(MemorySegment record) {
            sum += DrainBenchmark.touch(record, (int) record.byteSize());
            return true;
        }

        @Override
        int size() {
            return DrainBenchmark.MIXED;
        }

        @Override
        long lostByReader() {
            return 0;
        }
    }

    /** Libbpf: libbpf's ring_buffer__consume on a ring filled with records of {@link DrainBenchmark#MIXED} sizes. */
    @State(Scope.Thread)
    public static class Libbpf extends Filled {
        LibbpfDrain ring;

        @Setup(Level.Trial)
        public void open() {
            startProducer(Producer.RING);
            ring = LibbpfDrain.ring(producer.ring().fd(), DrainBenchmark.MIXED);
        }

        @TearDown(Level.Trial)
        public void close() {
            ring.close();
            producer.close();
        }

        @Override
        int size() {
            return DrainBenchmark.MIXED;
        }

        @Override
        long lostByReader() {
            return 0;
        }

        @Override
        long sumSoFar() {
            return ring.sum();
        }
    }
}
