package dev.panbpf.samples.compare;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Tally counts the records a consumer sees and how many came out of order: a record is out of order when a
 * record with a higher sequence number (the producer's global counter, the first 8 bytes) arrived before it.
 * Called once per record, so it keeps plain fields and allocates nothing.
 */
final class Tally {
    private long count;
    private long maxSeq = -1;
    private long outOfOrder;

    /** Counts one record. */
    void see(MemorySegment payload) {
        long seq = payload.get(ValueLayout.JAVA_LONG_UNALIGNED, 0);
        count++;
        if (seq < maxSeq) {
            outOfOrder++;
        } else {
            maxSeq = seq;
        }
    }

    long count() {
        return count;
    }

    long outOfOrder() {
        return outOfOrder;
    }
}
