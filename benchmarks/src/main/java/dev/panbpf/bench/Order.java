package dev.panbpf.bench;

import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * Order is what the ordering benchmark reports next to its time, per measurement iteration: records drained,
 * records that arrived after a record with a higher sequence number, the largest distance between a record's
 * arrival position and its sequence position in one drain, and (ordered reader only) records flagged late.
 * JMH shows each public field as a secondary result. JMH's score for such counters is their sum over the
 * iterations, which suits the counts; {@link Report} takes the largest per-iteration value of maxDisplacement
 * from the raw data instead.
 */
@State(Scope.Thread)
@AuxCounters(AuxCounters.Type.EVENTS)
public class Order {
    /** records counts the records drained this iteration. */
    public long records;
    /** outOfOrder counts records delivered after one with a higher sequence number this iteration. */
    public long outOfOrder;
    /** maxDisplacement is the largest |arrival index − sequence index| seen in one drain this iteration. */
    public long maxDisplacement;
    /** late counts records the ordered reader delivered with late = true this iteration. */
    public long late;

    /** Starts a new iteration's counts. */
    @Setup(Level.Iteration)
    public void reset() {
        records = 0;
        outOfOrder = 0;
        maxDisplacement = 0;
        late = 0;
    }

    /** Adds one drain: {@code seqs[i]} is the sequence number of the i-th record delivered. */
    void add(long[] seqs, int n, long lateRecords) {
        long base = Long.MAX_VALUE;
        for (int i = 0; i < n; i++) {
            base = Math.min(base, seqs[i]);
        }
        boolean[] seen = new boolean[n];
        long highest = -1;
        for (int i = 0; i < n; i++) {
            long rank = seqs[i] - base;
            if (rank >= n || seen[(int) rank]) {
                throw new IllegalStateException("sequence " + seqs[i] + " is a duplicate or outside the "
                        + n + " records of this fill: records were lost or repeated");
            }
            seen[(int) rank] = true;
            if (seqs[i] < highest) {
                outOfOrder++;
            }
            highest = Math.max(highest, seqs[i]);
            maxDisplacement = Math.max(maxDisplacement, Math.abs(i - rank));
        }
        records += n;
        late += lateRecords;
    }
}
