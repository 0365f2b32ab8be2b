package dev.panbpf.samples.deletions;

import dev.panbpf.BpfObject;
import dev.panbpf.bpf.BpfPrograms;

import java.time.Duration;
import java.util.function.Consumer;

/**
 * DeletionTracer attaches {@code sample_deletions.bpf.o} to the unlink and unlinkat syscall tracepoints and reads
 * the deletions from its ring buffer, through the skeleton and record generated from the object
 * ({@link SampleDeletionsObject}, {@link DeletionEvent}). What the program could not deliver it counts in
 * {@link Drops}.
 */
public final class DeletionTracer implements AutoCloseable {
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

    private final SampleDeletionsObject bpf;
    private final SampleDeletionsObject.Links links;
    private final SampleDeletionsObject.TypedRing<DeletionEvent> ring;

    private DeletionTracer(SampleDeletionsObject bpf, SampleDeletionsObject.Links links,
                           SampleDeletionsObject.TypedRing<DeletionEvent> ring) {
        this.bpf = bpf;
        this.links = links;
        this.ring = ring;
    }

    /** Loads the program (checking DeletionEvent against the C struct), opens its ring and attaches both tracepoints. */
    @SuppressWarnings("try") // the try only closes what was opened before the failure
    public static DeletionTracer start() {
        BpfObject object = BpfObject.open(BpfPrograms.bytes("sample_deletions.bpf.o"), "sample_deletions");
        SampleDeletionsObject.TypedRing<DeletionEvent> ring = null;
        try {
            SampleDeletionsObject bpf = SampleDeletionsObject.of(object);
            bpf.load();          // fails, listing each difference, if the record and the struct disagree
            ring = bpf.deletionsReader();
            return new DeletionTracer(bpf, bpf.attachAll(), ring);
        } catch (RuntimeException e) {
            try (object; var r = ring) {
                throw e;
            }
        }
    }

    /** Waits up to {@code timeout} for deletions and hands each to {@code onDeletion}; returns how many. */
    public int poll(Consumer<DeletionEvent> onDeletion, Duration timeout) {
        return ring.poll(e -> {
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
        var counts = bpf.deletionDrops();
        return new Drops(count(counts.lookupLong(0)), count(counts.lookupLong(1)), count(counts.lookupLong(2)));
    }

    private static long count(Long n) {
        return n == null ? 0 : n;
    }

    /** Releases the ring buffer, detaches the programs and releases the object. */
    @Override
    public void close() {
        try (bpf; links; ring) {
            // closed in reverse: ring, links, then the object
        }
    }
}
