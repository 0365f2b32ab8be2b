package dev.panbpf.samples;

/**
 * Option is one command-line option of a subcommand: {@code --name VALUE} when {@code value} names the value,
 * or a flag when it is null.
 */
public record Option(String name, String value, String help) {
    /** The name under which {@link Args} keeps a command's operand. */
    public static final String POSITIONAL = "";

    /** Option.positional declares the one operand (not an option) a command takes, such as a file. */
    public static Option positional(String value, String help) {
        return new Option(POSITIONAL, value, help);
    }

    /** Option.flag makes an option that takes no value. */
    public static Option flag(String name, String help) {
        return new Option(name, null, help);
    }

    /** Option.of makes an option that takes a value. */
    public static Option of(String name, String value, String help) {
        return new Option(name, value, help);
    }

    /** The option as it appears in help, such as {@code --seconds N}. */
    public String synopsis() {
        return name.isEmpty() ? value : "--" + name + (value == null ? "" : " " + value);
    }
}
