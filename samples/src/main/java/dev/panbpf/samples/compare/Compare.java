package dev.panbpf.samples.compare;

import dev.panbpf.samples.Args;
import dev.panbpf.samples.Command;
import dev.panbpf.samples.Option;
import dev.panbpf.samples.Prerequisite;
import dev.panbpf.samples.StopSignal;

import java.io.PrintStream;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;

/** Compare is the {@code compare} command. */
public final class Compare implements Command {
    @Override
    public String name() {
        return "compare";
    }

    @Override
    public String summary() {
        return "TODO";
    }

    @Override
    public List<Option> options() {
        return List.of();
    }

    @Override
    public Set<Prerequisite> needs(Args args) {
        return EnumSet.of(Prerequisite.JAVA);
    }

    @Override
    public int run(Args args, PrintStream out, StopSignal stop) throws Exception {
        throw new UnsupportedOperationException("not yet");
    }
}
