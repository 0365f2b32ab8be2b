package dev.panbpf.samples.compare;

/** Row is one buffer's line in the table: what it measured, or why it did not run. */
sealed interface Row permits Result, NotRun {
    /** The buffer the row is about. */
    Buffer buffer();
}
