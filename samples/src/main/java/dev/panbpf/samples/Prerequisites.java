package dev.panbpf.samples;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;

/** Prerequisites checks a set of {@link Prerequisite}s in order and reports each missing one with its fix. */
public final class Prerequisites {
    private Prerequisites() { }

    /** Missing is one failed check: what is needed, what was found, and the fix. */
    public record Missing(Prerequisite prerequisite, String found) {
        /** The report for the user: need, finding and fix on three lines. */
        public String describe() {
            return "  - needs " + prerequisite.what() + (prerequisite.required() ? "" : " (recommended)") + "\n"
                    + "    found: " + found + "\n"
                    + "    fix:   " + prerequisite.fix();
        }
    }

    /**
     * Checks {@code needed} on {@code host}. Checks that call into the kernel run only when the JDK, native access
     * and privileges they depend on are present, so one cause is not reported three times.
     */
    public static List<Missing> check(Set<Prerequisite> needed, Host host) {
        List<Missing> missing = new ArrayList<>();
        EnumSet<Prerequisite> ordered = needed.isEmpty() ? EnumSet.noneOf(Prerequisite.class) : EnumSet.copyOf(needed);
        for (Prerequisite p : ordered) {
            if (p == Prerequisite.RING_BUFFER && missing.stream().anyMatch(m -> m.prerequisite().required())) {
                continue;
            }
            String found = p.check(host);
            if (found != null) {
                missing.add(new Missing(p, found));
            }
        }
        return missing;
    }

    /** Prints the report; returns true when nothing required is missing. */
    public static boolean report(String command, List<Missing> missing, PrintStream err) {
        boolean blocking = missing.stream().anyMatch(m -> m.prerequisite().required());
        if (!missing.isEmpty()) {
            err.println(blocking
                    ? "panbpf " + command + ": this machine is missing what it needs:"
                    : "panbpf " + command + ": warning:");
            missing.forEach(m -> err.println(m.describe()));
        }
        return !blocking;
    }
}
