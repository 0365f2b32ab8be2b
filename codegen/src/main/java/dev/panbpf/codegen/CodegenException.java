package dev.panbpf.codegen;

/** CodegenException says why Java cannot be generated for a BPF object, and what to change so it can. */
public final class CodegenException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /**
     * A generation failure with its explanation.
     *
     * @param message what went wrong and how to fix it
     */
    public CodegenException(String message) {
        super(message);
    }

    /**
     * A generation failure caused by {@code cause}.
     *
     * @param message what went wrong and how to fix it
     * @param cause the underlying failure
     */
    public CodegenException(String message, Throwable cause) {
        super(message, cause);
    }
}
