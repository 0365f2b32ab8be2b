package dev.panbpf.samples.deletions;

import dev.panbpf.BpfObject;
import dev.panbpf.bpf.BpfPrograms;
import dev.panbpf.event.StructCodec;
import dev.panbpf.ringbuf.RingBuffer;

import java.lang.invoke.MethodHandles;
import java.time.Duration;
import java.util.function.Consumer;

/**
 * DeletionTracer attaches {@code sample_deletions.bpf.o} to the unlink and unlinkat syscall tracepoints and reads
 * the deletions from its ring buffer. What the program could not deliver it counts in {@link Drops}.
 */
public final class DeletionTracer implements AutoCloseable {
    private static final StructCodec<DeletionEvent> EVENT =
            StructCodec.of(DeletionEvent.class, MethodHandles.lookup());

    /**
     * Drops counts the deletions the program saw but did not deliver.
     *
     * @param noRoom        the free-space check (bpf_ringbuf_query) said the event would not fit
     * @param reserveFailed the space went to another CPU between the check and the reserve
     * @param badPath       the path could not be read, so the reserved record was discarded
     */
    public record Drops(long noRoom, long reserveFailed, long badPath) {
        /** All drops together. */
        public long total() {
            return noRoom + reserveFailed + badPath;
        }
    }

    private final BpfObject object;
    private final RingBuffer ring;

    private DeletionTracer(BpfObject object, RingBuffer ring) {
        this.object = object;
        this.ring = ring;
    }

    /** Loads the program, opens its ring buffer and attaches both tracepoints. */
    @SuppressWarnings("try") // the try only closes what was opened before the failure
    public static DeletionTracer start() {
        BpfObject object = BpfObject.open(BpfPrograms.bytes("sample_deletions.bpf.o"), "sample_deletions");
        RingBuffer ring = null;
        try {
            object.load();
            EVENT.verify(object, "deletion_event"); // fails, listing each difference, if record and struct disagree
            ring = RingBuffer.of(object.map("deletions"));
            // The links belong to the object, which detaches them when it closes.
            object.program("trace_unlinkat").attach();
            object.program("trace_unlink").attach();
            return new DeletionTracer(object, ring);
        } catch (RuntimeException e) {
            try (object; RingBuffer r = ring) {
                throw e;
            }
        }
    }

    /** Waits up to {@code timeout} for deletions and hands each to {@code onDeletion}; returns how many. */
    public int poll(Consumer<DeletionEvent> onDeletion, Duration timeout) {
        return ring.poll(EVENT, e -> {
            onDeletion.accept(e);
            return true;
        }, timeout);
    }

    /** Releases a thread waiting in {@link #poll} (for Ctrl-C). */
    public void wakeup() {
        ring.wakeup();
    }

    /** What the program counted as not delivered so far. */
    public Drops drops() {
        var counts = object.map("deletion_drops");
        return new Drops(count(counts.lookupLong(0)), count(counts.lookupLong(1)), count(counts.lookupLong(2)));
    }

    private static long count(Long n) {
        return n == null ? 0 : n;
    }

    /** Detaches the programs and releases the ring buffer and the object. */
    @Override
    public void close() {
        try (object; ring) {
            // ring first, then the object with its links
        }
    }
}
