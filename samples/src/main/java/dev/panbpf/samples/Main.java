package dev.panbpf.samples;

import dev.panbpf.samples.compare.Compare;
import dev.panbpf.samples.deletions.Deletions;
import dev.panbpf.samples.fizzbuzz.FizzBuzz;
import dev.panbpf.samples.gen.Gen;
import dev.panbpf.samples.printk.Printk;
import dev.panbpf.samples.xdp.XdpEvents;

import java.io.PrintStream;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * Main is the {@code panbpf} command: it picks the subcommand, checks the machine for what that subcommand needs,
 * and runs it. Exit status: 0 done, 1 failed, 2 usage error, 3 prerequisites missing.
 */
public final class Main {
    /** Exit status when the command line is wrong. */
    public static final int USAGE = 2;
    /** Exit status when the machine lacks a prerequisite. */
    public static final int MISSING = 3;

    private final List<Command> commands;

    /** Main with the standard commands. */
    public Main() {
        this.commands = List.of(new Compare(), new XdpEvents(), new Deletions(), new FizzBuzz(), new Printk(),
                new Gen(), new Check(this));
    }

    /** The command-line entry point. */
    public static void main(String[] argv) {
        int status;
        try (StopSignal stop = StopSignal.onShutdown()) {
            status = new Main().run(List.of(argv), System.out, System.err, new Host(), stop);
        }
        System.exit(status);
    }

    /** The commands, in the order help lists them. */
    public List<Command> commands() {
        return commands;
    }

    /** Runs one command line; returns the exit status. */
    public int run(List<String> argv, PrintStream out, PrintStream err, Host host, StopSignal stop) {
        if (argv.isEmpty() || List.of("help", "--help", "-h").contains(argv.get(0))) {
            Optional<Command> one = argv.size() > 1 ? find(argv.get(1)) : Optional.empty();
            one.ifPresentOrElse(c -> help(c, out), () -> help(out));
            return argv.isEmpty() ? USAGE : 0;
        }
        Optional<Command> found = find(argv.get(0));
        if (found.isEmpty()) {
            err.println("panbpf: unknown command '" + argv.get(0) + "'; the commands are "
                    + commands.stream().map(Command::name).toList() + " (panbpf --help)");
            return USAGE;
        }
        Command c = found.get();
        List<String> rest = argv.subList(1, argv.size());
        if (rest.contains("--help") || rest.contains("-h")) {
            help(c, out);
            return 0;
        }
        Args args;
        try {
            args = Args.parse(rest, c.options());
        } catch (UsageException e) {
            err.println("panbpf " + c.name() + ": " + e.getMessage());
            help(c, err);
            return USAGE;
        }
        Set<Prerequisite> needs = c.needs(args);
        if (!Prerequisites.report(String.join(" ", argv), needs, Prerequisites.check(needs, host), err)) {
            return MISSING;
        }
        try {
            return c.run(args, out, stop);
        } catch (UsageException e) {
            err.println("panbpf " + c.name() + ": " + e.getMessage());
            return USAGE;
        } catch (Exception e) {
            err.println("panbpf " + c.name() + " failed: " + e.getMessage());
            if (Boolean.getBoolean("panbpf.trace")) {
                e.printStackTrace(err);
            } else {
                err.println("(run with java -Dpanbpf.trace=true for the stack trace)");
            }
            return 1;
        }
    }

    private Optional<Command> find(String name) {
        return commands.stream().filter(c -> c.name().equals(name)).findFirst();
    }

    private void help(PrintStream out) {
        out.println("panbpf: eBPF events in Java through the FFM API.");
        out.println();
        out.println("usage: panbpf <command> [options]      panbpf <command> --help");
        out.println();
        for (Command c : commands) {
            describe(c, out);
        }
        // These two live in the ./panbpf launcher (they run Maven and the JMH jar, not this CLI).
        out.printf("  %-12s %s%n%n", "test", "build and run the test suite against this kernel (./panbpf test)");
        out.printf("  %-12s %s%n", "bench", "run the JMH suite and write benchmarks/results/ (./panbpf bench; "
                + "./panbpf bench quick for a smoke run)");
    }

    private void help(Command c, PrintStream out) {
        String operand = c.options().stream().filter(o -> o.name().equals(Option.POSITIONAL)).map(Option::value)
                .findFirst().map(v -> " " + v).orElse("");
        out.println("usage: panbpf " + c.name() + operand + (c.options().isEmpty() ? "" : " [options]"));
        out.println();
        describe(c, out);
    }

    private static void describe(Command c, PrintStream out) {
        out.printf("  %-12s %s%n", c.name(), c.summary());
        for (Option o : c.options()) {
            out.printf("      %-22s %s%n", o.synopsis(), o.help());
        }
        out.println();
    }
}
