package dev.panbpf.samples.compare;

import dev.panbpf.ringbuf.RecordHandler;
import dev.panbpf.ringbuf.RingBuffer;

import java.time.Duration;

/** RingSide reads the producer's ring buffer {@code rb}; a record it misses is a failed reserve in the program. */
final class RingSide implements Side {
    private final RingBuffer ring;
    private final RecordHandler handler;
    private final long memory;

    RingSide(ProducerObject producer, Tally tally, Settings s, Trace trace) {
        this.ring = RingBuffer.of(producer.rb());
        this.handler = record -> {
            tally.see(record);
            return true;
        };
        this.memory = s.ringBytes() + 2 * Settings.PAGE; // + the consumer and producer position pages
        trace.step("ring buffer reader: mapped map rb (fd %d), %d data bytes shared by all CPUs, adaptive wakeups",
                producer.rb().fd(), ring.size());
    }

    @Override
    public void poll(Duration timeout) {
        ring.poll(handler, timeout);
    }

    @Override
    public long drain() {
        long n = 0;
        for (int got; (got = ring.consume(handler)) > 0; ) {
            n += got;
        }
        return n;
    }

    @Override
    public long produced(ProducerCounters c) {
        return c.ringOk() + c.ringFailed();
    }

    @Override
    public long lost(ProducerCounters c) {
        return c.ringFailed();
    }

    @Override
    public long memoryBytes() {
        return memory;
    }

    @Override
    public void close() {
        ring.close();
    }
}
