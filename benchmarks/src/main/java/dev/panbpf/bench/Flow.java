package dev.panbpf.bench;

import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * Flow is what the end-to-end benchmark reports: events delivered to Java and events lost (the kernel could not
 * store them), counted per measurement iteration; in throughput mode JMH shows each as a rate per second.
 */
@State(Scope.Thread)
@AuxCounters(AuxCounters.Type.OPERATIONS)
public class Flow {
    /** delivered counts events handed to the Java handler. */
    public long delivered;
    /** lost counts events the producers could not store because the buffer was full. */
    public long lost;

    /** Starts a new iteration's counts. */
    @Setup(Level.Iteration)
    public void reset() {
        delivered = 0;
        lost = 0;
    }
}
