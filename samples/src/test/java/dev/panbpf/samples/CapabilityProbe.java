package dev.panbpf.samples;

import java.util.List;

/**
 * CapabilityProbe runs in a child JVM under reduced privileges (see {@link RunWithoutRootTest}): it runs one
 * command line as the CLI does, prerequisite check first, then the command's body alone, with no check, to show
 * what the kernel itself refuses. It prints {@code CLI STATUS n} and then {@code BODY STATUS n} or
 * {@code BODY FAILED <exception>}.
 */
public final class CapabilityProbe {
    private CapabilityProbe() { }

    public static void main(String[] argv) {
        List<String> args = List.of(argv);
        Main main = new Main();
        int status = main.run(args, System.out, System.out, new Host(), StopSignal.manual());
        System.out.println("CLI STATUS " + status);
        Command c = main.commands().stream().filter(x -> x.name().equals(args.get(0))).findFirst().orElseThrow();
        try {
            int body = c.run(Args.parse(args.subList(1, args.size()), c.options()), System.out, StopSignal.manual());
            System.out.println("BODY STATUS " + body);
        } catch (Throwable t) {
            System.out.println("BODY FAILED " + String.valueOf(t).replace('\n', ' '));
        }
        System.out.flush();
        System.exit(0);
    }
}
