package dev.panbpf.samples;

import java.io.PrintStream;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/** Check is the {@code check} command: every prerequisite, which commands need it, and whether it is met. */
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
        boolean blocked = missing.stream().anyMatch(m -> m.prerequisite().required());
        for (Prerequisite p : all) {
            List<String> users = main.commands().stream().filter(c -> c != this)
                    .filter(c -> c.needs(Args.parse(List.of(), c.options())).contains(p)).map(Command::name).toList();
            String status = bad.contains(p) ? "MISS" : p == Prerequisite.RING_BUFFER && blocked ? "skip" : "ok";
            out.printf("%-5s %-42s %s%n", status, p.what(),
                    users.isEmpty() ? "" : "(" + String.join(", ", users) + ")");
        }
        missing.forEach(m -> out.println(m.describe()));
        return missing.stream().anyMatch(m -> m.prerequisite().required()) ? Main.MISSING : 0;
    }
}
