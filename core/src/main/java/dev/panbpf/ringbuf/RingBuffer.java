package dev.panbpf.ringbuf;

import dev.panbpf.BpfMap;
import dev.panbpf.BufferClosedException;
import dev.panbpf.EventReader;
import dev.panbpf.MapType;
import dev.panbpf.event.EventHandler;
import dev.panbpf.event.StructCodec;
import dev.panbpf.internal.Decoders;
import dev.panbpf.internal.ProducerDrops;
import dev.panbpf.internal.RecordDecoder;

import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * RingBuffer reads a {@code BPF_MAP_TYPE_RINGBUF} map: records that BPF programs reserve and submit, delivered in
 * order, once each, straight from the shared mapping without copies.
 *
 * <pre>{@code
 * try (RingBuffer ring = RingBuffer.of(object.map("events"))) {
 *     while (running) {
 *         ring.poll(record -> { handle(record.get(JAVA_LONG, 0)); return true; }, Duration.ofMillis(100));
 *     }
 * }
 * }</pre>
 *
 * <p>One thread at a time may consume (call {@link #consume} or {@link #poll}); a second concurrent consumer is
 * refused with an exception, and so is a second RingBuffer (or {@link RingBufferPoller}) on the same map in this
 * process. {@link #wakeup()}, {@link #close()} and the queries are safe from any thread; {@code close()} from
 * another thread releases a blocked {@code poll} at once and unmaps the ring when that consumer has left
 * (so does {@link Thread#interrupt()} of the consumer, see {@link dev.panbpf.EventReader}). The map itself stays open: it belongs to whoever
 * created it.
 *
 * <p>Records are read in place, and their space goes back to the producers in batches, at the latest 64 records
 * after each record and when the {@code consume} or {@code poll} call returns (see {@link RecordHandler}).
 *
 * <p>Wakeups are the program's choice: by default the kernel wakes a waiting {@code poll} when it commits the record
 * the consumer is waiting at; records submitted with {@code BPF_RB_NO_WAKEUP} wake nobody and are picked up when the
 * timeout passes or a later record wakes the consumer.
 *
 * <p>A RingBuffer is the one-ring case of a {@link RingBufferPoller} (as libbpf's {@code ring_buffer} is, whatever
 * number of rings it holds): the same opening, claim, waiting, wakeup and close, with the handler given per call
 * and each call draining its one ring directly, without the poller's turns.
 */
public final class RingBuffer implements EventReader {
    private final String name;
    private final RingSet rings;
    /** The one ring's reader; the name is read by reflection in CachedConsumeBenchmark. */
    private final RingReader reader;
    private final RingPollLoop.Pass whole;
    private final ProducerDrops drops;

    private RingBuffer(String name, RingSet rings, ProducerDrops drops) {
        this.name = name;
        this.rings = rings;
        this.drops = drops;
        this.reader = rings.reader(0);
        this.whole = RingPollLoop.whole(reader);
    }

    /**
     * Maps {@code map}, which must be a {@code BPF_MAP_TYPE_RINGBUF}, and starts reading where its consumer position
     * stands (0 for a new map).
     *
     * @param map the ring buffer map
     * @return a reader of the ring, to be closed
     */
    public static RingBuffer of(BpfMap map) {
        String name = "ring buffer '" + map.name() + "'";
        if (map.mapType() != MapType.RINGBUF) {
            throw new IllegalArgumentException(map + " is not a ring buffer; RingBuffer reads BPF_MAP_TYPE_RINGBUF "
                    + "maps" + (map.mapType() == MapType.USER_RINGBUF ? " (write a USER_RINGBUF with UserRingBuffer)"
                    : map.mapType() == MapType.PERF_EVENT_ARRAY ? " (read a PERF_EVENT_ARRAY with PerfBuffer)" : ""));
        }
        ProducerDrops drops = ProducerDrops.of(map);   // before the mapping: only a JFR watch to end on failure
        try {
            return new RingBuffer(name, RingSet.open(name, List.of(map), List.of(name), "RingBuffer"), drops);
        } catch (RuntimeException e) {
            drops.close();
            throw e;
        }
    }

    /**
     * Delivers the records published so far to {@code handler} and returns how many it delivered, without
     * waiting. Records published while it runs are left for the next call, so one call is bounded by the ring size.
     *
     * @param handler receives each record
     * @return the number of records delivered
     */
    public int consume(RecordHandler handler) {
        return consume(handler, Integer.MAX_VALUE);
    }

    /**
     * Like {@link #consume(RecordHandler)}, delivering at most {@code limit} records; the rest stay in the ring.
     *
     * @param handler receives each record
     * @param limit the most records to deliver
     * @return the number of records delivered
     */
    public int consume(RecordHandler handler, int limit) {
        Objects.requireNonNull(handler, "handler");
        if (limit < 0) {
            throw new IllegalArgumentException("limit " + limit + " is negative");
        }
        rings.enter();
        try {
            return rings.drain(0, handler, limit);
        } finally {
            rings.exit();
        }
    }

    /**
     * Like {@link #consume(RecordHandler)}, decoding each record into a Java record with {@code codec}; verify the
     * codec against the program's struct once first ({@link StructCodec#verify}); an unverified codec is refused
     * with an IllegalStateException.
     *
     * @param <R> the record type
     * @param codec a verified codec of the program's struct
     * @param handler receives each decoded record
     * @return the number of records delivered
     */
    public <R extends Record> int consume(StructCodec<R> codec, EventHandler<? super R> handler) {
        return consume(typed(codec, handler));
    }

    /**
     * Like {@link #poll(RecordHandler, Duration)}, decoding each record into a Java record with {@code codec}.
     *
     * @param <R> the record type
     * @param codec a verified codec of the program's struct
     * @param handler receives each decoded record
     * @param timeout the longest wait
     * @return the number of records delivered
     */
    public <R extends Record> int poll(StructCodec<R> codec, EventHandler<? super R> handler, Duration timeout) {
        return poll(typed(codec, handler), timeout);
    }

    /** The raw handler of a typed view: decode, then let the typed handler say whether to go on. */
    static <R extends Record> RecordHandler typed(StructCodec<R> codec, EventHandler<? super R> handler) {
        Objects.requireNonNull(handler, "handler");
        codec.requireVerified("typed ring buffer view");
        RecordDecoder decoder = Decoders.of(codec);   // its own call site here: the JIT inlines the decode
        @SuppressWarnings("unchecked")
        RecordHandler typed = record -> handler.onEvent((R) decoder.decode(record, 0));
        return typed;
    }

    /**
     * Delivers the records published so far; if there are none, waits up to {@code timeout} for some and delivers
     * those. Returns how many it delivered: 0 when the timeout passed, or when {@link #wakeup()} or {@link #close()}
     * was called meanwhile. {@code Duration.ZERO} never waits.
     *
     * @param handler receives each record
     * @param timeout the longest wait
     * @return the number of records delivered
     */
    public int poll(RecordHandler handler, Duration timeout) {
        Objects.requireNonNull(handler, "handler");
        return rings.poll(whole, handler, timeout);
    }

    /**
     * Makes a {@code poll} that is waiting now return 0 at once; if none is waiting, the next {@code poll} that
     * would wait returns 0 instead. Safe from any thread.
     */
    @Override
    public void wakeup() {
        rings.wakeup();
    }

    @Override
    public void batchDelay(Duration delay) {
        rings.batch().set(delay, toString());
    }

    @Override
    public Duration batchDelay() {
        return rings.batch().get();
    }

    /**
     * Closes this reader: a consumer blocked in {@code poll} returns at once, and the mappings and epoll are
     * released as soon as no consumer is inside. Later calls to consume or poll throw. Idempotent; the map stays
     * open.
     */
    @Override
    public void close() {
        rings.close();
        drops.close();
    }

    /** Whether {@link #close()} was called. */
    @Override
    public boolean isClosed() {
        return rings.isClosed();
    }

    /** {@return the size of the data area in bytes (the map's max_entries)} */
    public long size() {
        return reader.size();
    }

    /**
     * Bytes published and not yet consumed, record headers and discarded records included.
     *
     * @return the byte count
     * @throws BufferClosedException after {@link #close()}, also when a close races this call
     */
    public long availableBytes() {
        return rings.query(reader::availableBytes);
    }

    /**
     * The producer position: total bytes ever reserved in this ring, headers and padding included.
     *
     * @return the position
     * @throws BufferClosedException after {@link #close()}, also when a close races this call
     */
    public long producerPosition() {
        return rings.query(reader::producerPosition);
    }

    /**
     * The consumer position: total bytes consumed so far.
     *
     * @return the position
     * @throws BufferClosedException after {@link #close()}, also when a close races this call
     */
    public long consumerPosition() {
        return rings.query(reader::consumerPosition);
    }

    /**
     * How many times a {@code poll} found the record at the consumer position reserved but not yet committed
     * (BUSY) and slept briefly instead of spinning: 20 µs at first, doubling up to 4 ms, within the timeout.
     *
     * @return the number of such sleeps since this reader was opened
     */
    public long busyWaits() {
        return rings.busyWaits();
    }

    /** The number of records handed to a handler since this reader was opened. */
    @Override
    public long delivered() {
        return reader.delivered();
    }

    /** {@return the number of records the producer discarded, skipped since this reader was opened} */
    public long discarded() {
        return reader.discarded();
    }

    /**
     * Records the BPF programs failed to put into this ring since this reader was opened (the ring was full, or a
     * size was refused), as the {@code panbpf_ringbuf_*} wrappers of panbpf.bpf.h count them in the object's
     * {@code panbpf_drops} map. 0 when the map's object has no such map (the program uses the plain helpers) or
     * the map has no object. With the wrappers, every record a program tried to send is delivered, discarded or
     * counted here. Reads the map at each call, also after {@link #close()}.
     *
     * @return the count, all CPUs together
     * @throws dev.panbpf.BpfException if the map's object was closed
     */
    public long producerDrops() {
        return drops.sinceOpen();
    }

    /**
     * Always 0: a ring buffer has no lost-event count. A BPF program learns that the ring is full when its
     * {@code bpf_ringbuf_reserve} fails, and only it can count that: the wrappers of panbpf.bpf.h do, see
     * {@link #producerDrops()}.
     *
     * @return 0
     */
    @Override
    public long lost() {
        return 0;
    }

    /**
     * Always 0: records still in the ring when this reader closes stay in the map, where the next reader of the map
     * finds them; nothing this reader held is lost.
     *
     * @return 0
     */
    @Override
    public long droppedAtClose() {
        return 0;
    }

    @Override
    public String toString() {
        return name + (isClosed() ? " (closed)" : "");
    }
}
