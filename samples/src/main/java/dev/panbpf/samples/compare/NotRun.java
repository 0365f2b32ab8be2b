package dev.panbpf.samples.compare;

/**
 * NotRun is a buffer that has no measurement, so its row says so instead of showing zeros that would read as a
 * result.
 *
 * @param buffer  the buffer
 * @param reason  why: skipped by an option, stopped before its turn, or the failure that ended it
 * @param failure the exception that ended it, or null when it was skipped or stopped
 */
record NotRun(Buffer buffer, String reason, RuntimeException failure) implements Row {
    /** Whether the half failed (the command then exits 1), rather than being skipped or stopped. */
    boolean failed() {
        return failure != null;
    }
}
