package dev.panbpf.perf;

import java.lang.foreign.MemorySegment;

/**
 * PerfSink is what {@link PerfCursor#drain} hands samples to. PerfBuffer.Handler extends it, so the cursor takes
 * the user's handler as it is (no adapter per pass) without depending on PerfBuffer (no file cycle).
 */
@FunctionalInterface
interface PerfSink {
    /** As {@link PerfBuffer.Handler#onRecord}. */
    boolean onRecord(int cpu, MemorySegment payload, long timestamp);
}
