package dev.panbpf;

import dev.panbpf.perf.OrderedPerfBuffer;
import dev.panbpf.perf.PerfBuffer;
import dev.panbpf.ringbuf.RingBuffer;
import dev.panbpf.ringbuf.RingBufferPoller;
import dev.panbpf.ringbuf.UserRingBuffer;

/**
 * BufferClosedException is what every reader and writer of a buffer ({@link RingBuffer}, {@link RingBufferPoller},
 * {@link PerfBuffer}, {@link OrderedPerfBuffer}, {@link UserRingBuffer}) throws for a call made after its
 * {@code close()}. A call that was already blocked when another thread closed the buffer returns normally instead;
 * the next one throws this, so a {@code while (running) poll(...)} loop ends rather than spins. What needs no
 * kernel memory stays usable after close: the counters ({@code delivered}, {@code discarded}, {@code lost},
 * {@code droppedAtClose}), {@code size()}, {@code isClosed()}, and {@code wakeup()}, which does nothing then.
 */
public final class BufferClosedException extends BpfException {
    private static final long serialVersionUID = 1L;

    /**
     * A closed-buffer error for {@code what}.
     *
     * @param what the buffer, as named in messages (for example "ring buffer 'events'")
     */
    public BufferClosedException(String what) {
        super(what + " is closed; open a new one on the map to read or write it again");
    }
}
