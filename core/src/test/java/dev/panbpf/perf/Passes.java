package dev.panbpf.perf;

/**
 * Passes runs the readers' loops over cursors and merges that tests built on fake rings: {@link #drain} is
 * PerfBuffer's read of one ring, {@link #pass} OrderedPerfBuffer's merge pass, each without the gate.
 */
final class Passes {
    private Passes() { }

    /** One pass over {@code ring}: every sample published, until {@code handler} returns false. */
    static int drain(PerfCursor ring, PerfBuffer.Handler handler) {
        int n = 0;
        try {
            ring.begin();
            n = ring.drain(handler::onRecord, null);
        } finally {
            ring.end();
        }
        return n;
    }

    /** One merge pass at {@code now}: what the rule (or {@code flush}) releases, until {@code handler} stops. */
    static int pass(TimestampMerge merge, OrderedPerfBuffer.Handler handler, long now, boolean flush) {
        int n = 0;
        try {
            merge.begin(now, flush);
            while (merge.next()) {
                n++;
                if (!handler.onRecord(merge.cpu(), merge.payload(), merge.time(), merge.isLate())) {
                    break;
                }
            }
        } finally {
            merge.end();
        }
        return n;
    }
}
