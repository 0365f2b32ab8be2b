package dev.panbpf.samples;

import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** Args holds a subcommand's parsed options, checked against the options the subcommand declares. */
public final class Args {
    private final Map<String, String> values;

    private Args(Map<String, String> values) {
        this.values = values;
    }

    /**
     * Args.parse reads {@code --name value} and {@code --flag} arguments, and one operand when the command declares
     * {@link Option#positional}; anything undeclared is a usage error.
     */
    public static Args parse(List<String> argv, List<Option> declared) {
        Map<String, Option> byName = new HashMap<>();
        declared.forEach(o -> byName.put(o.name(), o));
        Map<String, String> values = new HashMap<>();
        for (int i = 0; i < argv.size(); i++) {
            String a = argv.get(i);
            String name = a.startsWith("--") ? a.substring(2) : null;
            String inline = null;
            if (name != null && name.contains("=")) {
                inline = name.substring(name.indexOf('=') + 1);
                name = name.substring(0, name.indexOf('='));
            }
            Option o = name == null ? null : byName.get(name);
            if (name == null && byName.containsKey(Option.POSITIONAL) && !values.containsKey(Option.POSITIONAL)) {
                values.put(Option.POSITIONAL, a);        // the one operand a command may take, such as a file
                continue;
            }
            if (o == null) {
                throw new UsageException("unknown argument '" + a + "'");
            }
            if (o.value() == null) {
                values.put(name, "true");
            } else if (inline != null) {
                values.put(name, inline);
            } else if (i + 1 < argv.size()) {
                values.put(name, argv.get(++i));
            } else {
                throw new UsageException("--" + name + " needs a value (" + o.value() + ")");
            }
        }
        return new Args(values);
    }

    /** Whether the flag or option {@code name} was given. */
    public boolean has(String name) {
        return values.containsKey(name);
    }

    /** The option's value, or {@code fallback} when it was not given. */
    public String string(String name, String fallback) {
        return values.getOrDefault(name, fallback);
    }

    /** The option's value as a positive integer, or {@code fallback}. */
    public int positiveInt(String name, int fallback) {
        String v = values.get(name);
        if (v == null) {
            return fallback;
        }
        try {
            int n = Integer.parseInt(v);
            if (n > 0) {
                return n;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new UsageException("--" + name + " wants a positive whole number, got '" + v + "'");
    }

    /** The option's value in whole seconds, or {@code fallback}. */
    public Duration seconds(String name, Duration fallback) {
        return has(name) ? Duration.ofSeconds(positiveInt(name, 1)) : fallback;
    }
}
