package dev.panbpf.samples.compare;

import java.time.Duration;

/** Side is the consumer end of one buffer in {@code compare}: it reads into a {@link Tally} and counts losses. */
interface Side extends AutoCloseable {
    /** Reads what is there, waiting up to {@code timeout} for something. */
    void poll(Duration timeout);

    /** Reads everything left without waiting; returns how many records that was. */
    long drain();

    /** Records the producer tried to send to this buffer. */
    long produced(ProducerCounters c);

    /** Records this buffer could not take. */
    long lost(ProducerCounters c);

    /** Kernel memory the buffer pins, control pages included. */
    long memoryBytes();

    @Override
    void close();
}
