package dev.panbpf.samples.fizzbuzz;

import dev.panbpf.samples.Args;
import dev.panbpf.samples.Command;
import dev.panbpf.samples.Option;
import dev.panbpf.samples.Prerequisite;
import dev.panbpf.samples.StopSignal;
import dev.panbpf.samples.Table;
import dev.panbpf.samples.UsageException;
import dev.panbpf.samples.net.Ipv4;

import java.io.PrintStream;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * FizzBuzz is the {@code fizzbuzz} command: XDP programs classify packets by source address and push the verdicts
 * into a queue map; Java pops and prints them, one column per version of the rule, so the evolution shows.
 */
public final class FizzBuzz implements Command {
    @Override
    public String name() {
        return "fizzbuzz";
    }

    @Override
    public String summary() {
        return "FizzBuzz on packet source addresses, pushed into a queue map (three versions of the rule)";
    }

    @Override
    public List<Option> options() {
        return List.of(
                Option.of("first", "ADDR", "first source address (default 10.0.5.1; 10.0.5.n classifies like n)"),
                Option.of("count", "N", "packets, one per address from --first on (default 30)"),
                Option.of("rule", "v1|v2|v3", "run only this version (default: all three side by side)"));
    }

    @Override
    public Set<Prerequisite> needs(Args args) {
        // XDP programs, only test-run: CAP_NET_ADMIN to load them, and nothing they do needs CAP_PERFMON.
        return EnumSet.of(Prerequisite.JAVA, Prerequisite.NATIVE_ACCESS, Prerequisite.BPF, Prerequisite.NET_ADMIN,
                Prerequisite.LIBBPF, Prerequisite.KERNEL_BTF);
    }

    @Override
    public int run(Args args, PrintStream out, StopSignal stop) {
        List<Rule> rules = rules(args.string("rule", null));
        int first = address(args.string("first", "10.0.5.1"));
        int count = args.positiveInt("count", 30);
        List<Integer> sources = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            sources.add(first + i);
        }
        try (FizzBuzzQueue queue = FizzBuzzQueue.load()) {
            out.println("enum " + Message.C_ENUM + " in the BPF object matches " + Message.class.getSimpleName()
                    + " (" + Message.values().length + " constants, checked against the object's BTF)");
            out.println("10.0.5.0 is " + Integer.toUnsignedString(address("10.0.5.0"))
                    + ", a multiple of 15, so 10.0.5.n classifies like n; Fibonacci looks at the last byte only");
            out.println();
            Map<Rule, List<FizzBuzzEntry>> verdicts = new EnumMap<>(Rule.class);
            for (Rule r : rules) {
                verdicts.put(r, queue.classify(r, sources));
            }
            List<String> header = new ArrayList<>(List.of("source", "as number"));
            rules.forEach(r -> header.add(r.name().toLowerCase()));
            Table t = new Table(header.toArray(String[]::new));
            for (int i = 0; i < count; i++) {
                List<Object> row = new ArrayList<>(List.of(Ipv4.text(sources.get(i)),
                        Integer.toUnsignedString(sources.get(i))));
                for (Rule r : rules) {
                    row.add(label(verdicts.get(r).get(i)));
                }
                t.row(row.toArray());
            }
            t.print(out);
        }
        return 0;
    }

    private static String label(FizzBuzzEntry e) {
        return switch (e.message()) {
            case NUMBER -> "-";
            case FIZZ -> "Fizz";
            case BUZZ -> "Buzz";
            case FIZZBUZZ -> "FizzBuzz";
            case FIBONACCI -> "Fibonacci";
        };
    }

    private static List<Rule> rules(String rule) {
        if (rule == null) {
            return List.of(Rule.values());
        }
        for (Rule r : Rule.values()) {
            if (r.name().equalsIgnoreCase(rule)) {
                return List.of(r);
            }
        }
        throw new UsageException("--rule wants v1, v2 or v3, got '" + rule + "'");
    }

    private static int address(String text) {
        try {
            if (text.matches("\\d+\\.\\d+\\.\\d+\\.\\d+")
                    && InetAddress.getByName(text) instanceof Inet4Address a) {
                return Ipv4.of(a);
            }
        } catch (UnknownHostException e) {
            // reported below
        }
        throw new UsageException("not an IPv4 address: '" + text + "'");
    }
}
