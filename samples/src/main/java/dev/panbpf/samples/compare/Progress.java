package dev.panbpf.samples.compare;

import java.io.PrintStream;

/**
 * Progress shows a running phase once a second: rewritten in place on a terminal, one line per update
 * otherwise (a log, a test), so nothing is lost when the output is not a console.
 */
final class Progress {
    private final PrintStream out;
    private final boolean inPlace;
    private int lastWidth;

    Progress(PrintStream out, boolean inPlace) {
        this.out = out;
        this.inPlace = inPlace;
    }

    /** Shows {@code line}. */
    void show(String line) {
        if (inPlace) {
            out.print("\r" + line + " ".repeat(Math.max(0, lastWidth - line.length())));
            lastWidth = line.length();
        } else {
            out.println(line);
        }
        out.flush();
    }

    /** Ends the in-place line so what follows starts on a new one. */
    void done() {
        if (inPlace && lastWidth > 0) {
            out.println();
            lastWidth = 0;
        }
    }
}
