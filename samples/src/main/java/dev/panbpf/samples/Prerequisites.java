package dev.panbpf.samples;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;

/**
 * Prerequisites checks a set of {@link Prerequisite}s in order and reports each missing one with its fix, and says
 * which capabilities a command needs to run without root.
 */
public final class Prerequisites {
    private Prerequisites() { }

    /** Missing is one failed check: what is needed, what was found, and the fix. */
    public record Missing(Prerequisite prerequisite, String found, String fix) {
        /** The report for the user: need, finding and fix on three lines. */
        public String describe() {
            return "  - needs " + prerequisite.what() + (prerequisite.required() ? "" : " (recommended)") + "\n"
                    + "    found: " + found + "\n"
                    + "    fix:   " + fix;
        }
    }

    /**
     * Checks {@code needed} on {@code host}, in the order of {@link Prerequisite}. A check is skipped when one it
     * relies on is missing (see {@link Prerequisite#reliesOn()}), so one cause is not reported twice.
     */
    public static List<Missing> check(Set<Prerequisite> needed, Host host) {
        List<Missing> missing = new ArrayList<>();
        EnumSet<Prerequisite> ordered = needed.isEmpty() ? EnumSet.noneOf(Prerequisite.class) : EnumSet.copyOf(needed);
        for (Prerequisite p : ordered) {
            if (skipped(p, missing)) {
                continue;
            }
            Prerequisite.Finding f = p.check(host);
            if (f != null) {
                missing.add(new Missing(p, f.found(), f.fix()));
            }
        }
        return missing;
    }

    /** Whether {@link #check} left {@code p} out because something it relies on is among {@code missing}. */
    public static boolean skipped(Prerequisite p, List<Missing> missing) {
        return missing.stream().anyMatch(m -> p.reliesOn().contains(m.prerequisite()));
    }

    /**
     * The capabilities a process that is not root needs for {@code needed}, in {@link Capability} order. When
     * CAP_SYS_ADMIN is among them, CAP_BPF and CAP_PERFMON are left out: the kernel takes it for both.
     */
    public static Set<Capability> capabilities(Set<Prerequisite> needed) {
        EnumSet<Capability> caps = EnumSet.noneOf(Capability.class);
        needed.forEach(p -> caps.addAll(p.capabilities()));
        if (caps.contains(Capability.SYS_ADMIN)) {
            caps.removeAll(EnumSet.of(Capability.BPF, Capability.PERFMON));
        }
        return caps;
    }

    /**
     * How to run {@code commandLine} (such as {@code compare}) as one's own user with exactly {@code caps}: as
     * ambient capabilities, which the JVM inherits from setpriv or systemd and which change nothing on disk.
     */
    public static List<String> ambientAdvice(String commandLine, Set<Capability> caps) {
        String list = Capability.setprivList(caps);
        return List.of(
                "sudo setpriv --reuid=$(id -u) --regid=$(id -g) --init-groups --inh-caps=" + list
                        + " --ambient-caps=" + list + " ./panbpf " + commandLine,
                "or in a systemd unit: User=<you> and AmbientCapabilities=" + Capability.constants(caps));
    }

    /**
     * Prints the report for {@code command} (the command line after {@code panbpf}), which needs {@code needed};
     * when a missing prerequisite is one a capability grants, it ends with the command's whole capability list and
     * how to grant it. Returns true when nothing required is missing.
     */
    public static boolean report(String command, Set<Prerequisite> needed, List<Missing> missing, PrintStream err) {
        boolean blocking = missing.stream().anyMatch(m -> m.prerequisite().required());
        if (missing.isEmpty()) {
            return true;
        }
        err.println(blocking
                ? "panbpf " + command + ": this machine is missing what it needs:"
                : "panbpf " + command + ": warning:");
        missing.forEach(m -> err.println(m.describe()));
        if (missing.stream().anyMatch(m -> !m.prerequisite().capabilities().isEmpty())) {
            Set<Capability> caps = capabilities(needed);
            err.println("  without root, " + command + " needs " + Capability.constants(caps)
                    + "; to run it as your own user with them:");
            ambientAdvice(command, caps).forEach(line -> err.println("    " + line));
        }
        return !blocking;
    }
}
