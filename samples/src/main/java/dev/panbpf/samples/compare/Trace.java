package dev.panbpf.samples.compare;

import java.io.PrintStream;
import java.util.Locale;

/**
 * Trace prints what {@code compare --trace} shows of each step (the object loaded, its maps and sizes, the
 * program and how it runs, per-second counts), one {@code trace:} line each; off, it prints nothing.
 */
final class Trace {
    private final PrintStream out;

    private Trace(PrintStream out) {
        this.out = out;
    }

    /** A trace printing to {@code out}. */
    static Trace to(PrintStream out) {
        return new Trace(out);
    }

    /** A trace that prints nothing. */
    static Trace off() {
        return new Trace(null);
    }

    boolean on() {
        return out != null;
    }

    /** Prints one step, formatted as {@link String#format} does (with no locale, so numbers read the same anywhere). */
    void step(String format, Object... args) {
        if (out != null) {
            out.println("trace: " + String.format(Locale.ROOT, format, args));
            out.flush();
        }
    }
}
