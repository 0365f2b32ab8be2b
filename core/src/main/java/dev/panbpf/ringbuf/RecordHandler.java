package dev.panbpf.ringbuf;

import java.lang.foreign.MemorySegment;

/**
 * RecordHandler receives ring buffer records one at a time, without copies.
 *
 * <p>The segment is a read-only view straight into the shared ring: it is valid only until the handler returns,
 * because the producer reuses the space as soon as the consumer position moves past it. Copy out what you keep
 * ({@code record.toArray(...)}, {@code MemorySegment.copy}). A record's first byte is 8-byte aligned. A segment
 * kept anyway reads whatever the producers wrote there since, and once the reader is closed every access to it
 * throws {@link IllegalStateException}, on any thread; it never faults.
 *
 * <p>The reader gives the space back in batches: a record's space returns to the producers at the latest when the
 * handler of the 64th record after it is called, and when the call that delivered it returns (also when a handler
 * stops the call or throws), never before its own handler returned.
 */
@FunctionalInterface
public interface RecordHandler {
    /**
     * onRecord handles one record's payload (exactly the bytes the BPF program submitted) and returns true to
     * take the next record, or false to stop: the call that delivered this record then returns, and the records
     * after it stay in the ring for the next call. If it throws, the record still counts as consumed and delivered
     * (so a record that always makes the handler fail cannot wedge the ring), and the exception reaches the caller
     * of consume or poll.
     *
     * @param record the payload, valid only during the call
     * @return true to go on, false to stop after this record
     */
    boolean onRecord(MemorySegment record);
}
