package dev.panbpf.samples;

import java.io.PrintStream;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Check is the {@code check} command: every prerequisite, which commands need it, and whether it is met; then the
 * capabilities each command needs to run without root, and the fix for each gap. It needs nothing itself, so any
 * user can run it.
 */
final class Check implements Command {
    private final Main main;

    Check(Main main) {
        this.main = main;
    }

    @Override
    public String name() {
        return "check";
    }

    @Override
    public String summary() {
        return "checks this machine for everything the other commands need, with a fix for each gap";
    }

    @Override
    public List<Option> options() {
        return List.of();
    }

    @Override
    public Set<Prerequisite> needs(Args args) {
        return Set.of();
    }

    @Override
    public int run(Args args, PrintStream out, StopSignal stop) {
        Host host = new Host();
        Set<Prerequisite> all = EnumSet.allOf(Prerequisite.class);
        List<Prerequisites.Missing> missing = Prerequisites.check(all, host);
        Set<Prerequisite> bad = new HashSet<>();
        missing.forEach(m -> bad.add(m.prerequisite()));
        int width = all.stream().mapToInt(p -> p.what().length()).max().orElse(0);
        for (Prerequisite p : all) {
            List<String> users = main.commands().stream().filter(c -> c != this)
                    .filter(c -> c.needs(Args.parse(List.of(), c.options())).contains(p)).map(Command::name).toList();
            String status = bad.contains(p) ? "MISS" : Prerequisites.skipped(p, missing) ? "skip" : "ok";
            out.printf("%-5s %-" + width + "s %s%n", status, p.what(),
                    users.isEmpty() ? "" : "(" + String.join(", ", users) + ")");
        }
        out.println();
        capabilities(out);
        missing.forEach(m -> out.println(m.describe()));
        return missing.stream().anyMatch(m -> m.prerequisite().required()) ? Main.MISSING : 0;
    }

    /**
     * Prints each command's capabilities, one line per command, and one more for each option that changes them,
     * then how to grant them. Tests run every sample with exactly the capabilities these lines name.
     */
    private void capabilities(PrintStream out) {
        Map<String, Set<Capability>> lines = new LinkedHashMap<>();
        for (Command c : main.commands()) {
            Set<Capability> plain = Prerequisites.capabilities(c.needs(Args.parse(List.of(), c.options())));
            lines.put(c.name(), plain);
            for (Option o : c.options()) {
                List<String> argv = o.value() == null ? List.of("--" + o.name()) : List.of("--" + o.name(), o.value());
                try {
                    Set<Capability> with = Prerequisites.capabilities(c.needs(Args.parse(argv, c.options())));
                    if (!with.equals(plain)) {
                        lines.put(c.name() + " " + o.synopsis(), with);
                    }
                } catch (UsageException e) {
                    // this option's needs depend on its value: the plain line stands for it
                }
            }
        }
        int width = lines.keySet().stream().mapToInt(String::length).max().orElse(0);
        out.println("capabilities each command needs without root:");
        lines.forEach((line, caps) -> out.printf("  %-" + width + "s  %s%n", line,
                caps.isEmpty() ? "none" : Capability.constants(caps)));
        Map.Entry<String, Set<Capability>> example = lines.entrySet().stream()
                .filter(e -> !e.getValue().isEmpty()).findFirst().orElse(null);
        if (example != null) {
            out.println("grant them as ambient capabilities, which the JVM inherits and which change no file:");
            Prerequisites.ambientAdvice(example.getKey(), example.getValue()).forEach(l -> out.println("  " + l));
        }
        out.println("  not with setcap on $JAVA_HOME/bin/java: a program with file capabilities runs in secure mode, "
                + "where java no longer finds libjli.so");
        out.println("  CAP_SYS_ADMIN also stands for CAP_BPF and CAP_PERFMON; CAP_DAC_READ_SEARCH reads any file, so "
                + "you may let a group read tracefs instead: sudo mount -o remount,gid=GROUP,mode=0750 "
                + "/sys/kernel/tracing");
        out.println();
    }
}
