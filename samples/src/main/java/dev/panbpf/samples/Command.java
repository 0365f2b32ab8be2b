package dev.panbpf.samples;

import java.io.PrintStream;
import java.util.List;
import java.util.Set;

/** Command is one subcommand of {@code panbpf}: its name, help, what it needs from the machine, and its body. */
public interface Command {
    /** The word that selects the command, such as {@code compare}. */
    String name();

    /** One line saying what the command shows. */
    String summary();

    /** The options the command accepts. */
    List<Option> options();

    /** The prerequisites this run needs, checked before {@link #run} with a fix for each missing one. */
    Set<Prerequisite> needs(Args args);

    /** Runs the command, printing to {@code out}; returns the process exit status. */
    int run(Args args, PrintStream out, StopSignal stop) throws Exception;
}
