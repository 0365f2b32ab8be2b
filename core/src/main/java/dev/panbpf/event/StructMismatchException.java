package dev.panbpf.event;

import dev.panbpf.BpfException;

import java.util.List;

/**
 * StructMismatchException says a record does not lay out like the C struct it claims to describe, listing every
 * difference (field, C offset and size, Java offset and size) so that all of them can be fixed at once.
 */
public final class StructMismatchException extends BpfException {
    /** One sentence per difference. */
    private final List<String> differences;

    StructMismatchException(String message, List<String> differences) {
        super(message);
        this.differences = List.copyOf(differences);
    }

    /** {@return a list of each difference as one sentence naming the field} */
    public List<String> differences() {
        return differences;
    }
}
