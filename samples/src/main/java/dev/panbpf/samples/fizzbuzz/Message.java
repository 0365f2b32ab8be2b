package dev.panbpf.samples.fizzbuzz;

/**
 * Message is the verdict the FizzBuzz programs push, the Java twin of {@code enum fizzbuzz_message} in
 * {@code sample_fizzbuzz.bpf.c}. The C name of each constant is {@code FIZZBUZZ_} + its Java name, and its C value
 * is its ordinal; {@link EnumCheck} compares both against the object's BTF before any message is read, so
 * reordering, renaming, adding or removing a constant on one side only fails at startup with a list of the
 * differences instead of mislabelling messages.
 */
public enum Message {
    /** None of the rules matched: print the number. */
    NUMBER,
    /** Divisible by 3. */
    FIZZ,
    /** Divisible by 5. */
    BUZZ,
    /** Divisible by 15 (rule v2 and later). */
    FIZZBUZZ,
    /** The address's last byte is a Fibonacci number (rule v3; takes precedence). */
    FIBONACCI;

    /** The C enum's type name in the BPF object. */
    public static final String C_ENUM = "fizzbuzz_message";
    /** The prefix C puts before each Java name. */
    public static final String C_PREFIX = "FIZZBUZZ_";

    private static final Message[] BY_VALUE = values();

    /** The message with C value {@code value}; a value outside the enum is corruption and throws. */
    public static Message of(int value) {
        if (value < 0 || value >= BY_VALUE.length) {
            throw new IllegalArgumentException("no fizzbuzz_message with value " + value);
        }
        return BY_VALUE[value];
    }
}
