package dev.panbpf.perf;

import java.lang.foreign.MemorySegment;

/** PerfSink is what {@link PerfCursor#drain} hands samples to: PerfBuffer's handler, named apart (no file cycle). */
@FunctionalInterface
interface PerfSink {
    /** As {@link PerfBuffer.Handler#onRecord}. */
    boolean onRecord(int cpu, MemorySegment payload, long timestamp);
}
