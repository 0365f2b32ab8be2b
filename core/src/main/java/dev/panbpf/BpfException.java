package dev.panbpf;

import dev.panbpf.internal.Errno;

/**
 * BpfException reports a failed kernel or libbpf call: the operation, the errno name and what to do about it.
 * {@link #errno()} is 0 when the failure was found before any call (a bad argument, a missing file).
 */
public class BpfException extends RuntimeException {
    /** The errno of the failed call, 0 when there was no call. */
    private final int errno;
    /** The call that failed. */
    private final String operation;

    /**
     * A failure with no errno, found by panbpf itself.
     *
     * @param message what went wrong
     */
    public BpfException(String message) {
        super(message);
        this.errno = 0;
        this.operation = "";
    }

    /**
     * A failed call: {@code operation} failed with {@code errno}; {@code hint} says what to do (may be null).
     *
     * @param operation the call that failed, such as {@code "bpf(BPF_MAP_CREATE)"}
     * @param errno the positive errno it returned
     * @param hint advice for the user, or null
     */
    public BpfException(String operation, int errno, String hint) {
        super(operation + " failed: " + Errno.name(errno) + " (" + Errno.describe(errno) + ")"
                + (hint == null ? Errno.defaultHint(errno) : ": " + hint));
        this.errno = errno;
        this.operation = operation;
    }

    /**
     * Wraps another exception.
     *
     * @param message what went wrong
     * @param cause the exception that caused it
     */
    public BpfException(String message, Throwable cause) {
        super(message, cause);
        this.errno = cause instanceof BpfException b ? b.errno : 0;
        this.operation = cause instanceof BpfException b ? b.operation : "";
    }

    /** {@return the errno of the failed call, or 0} */
    public int errno() {
        return errno;
    }

    /** {@return the symbolic errno name, such as {@code "EPERM"}, or {@code ""} when there is none} */
    public String errnoName() {
        return errno == 0 ? "" : Errno.name(errno);
    }

    /** {@return the operation that failed, such as {@code "bpf(BPF_MAP_CREATE)"}} */
    public String operation() {
        return operation;
    }
}
