package dev.panbpf.samples;

/** UsageException says the command line was wrong; the message says how, and the CLI prints the usage. */
public final class UsageException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /** UsageException with the message shown to the user. */
    public UsageException(String message) {
        super(message);
    }
}
