package dev.panbpf.samples.fizzbuzz;

/**
 * Rule is the Java statement of each version of the FizzBuzz rule that {@code sample_fizzbuzz.bpf.c} runs in the
 * kernel, used to check the kernel's answers. An address is the unsigned 32-bit value of the IPv4 source
 * address (10.0.5.7 is 0x0a000507).
 */
public enum Rule {
    /** v1: Fizz for multiples of 3, then Buzz for multiples of 5; 15 says Fizz because 3 is tested first. */
    V1("fizzbuzz_v1"),
    /** v2: multiples of 15 say FizzBuzz. */
    V2("fizzbuzz_v2"),
    /** v3: a Fibonacci last byte (0, 1, 2, 3, 5, 8, ... 233) takes precedence over everything. */
    V3("fizzbuzz_v3");

    private final String program;

    Rule(String program) {
        this.program = program;
    }

    /** The BPF program implementing this version. */
    public String program() {
        return program;
    }

    /** The message this version gives {@code addr}. */
    public Message classify(int addr) {
        if (this == V3 && isFibonacci(addr & 0xff)) {
            return Message.FIBONACCI;
        }
        if (this != V1 && divisible(addr, 15)) {
            return Message.FIZZBUZZ;
        }
        if (divisible(addr, 3)) {
            return Message.FIZZ;
        }
        if (divisible(addr, 5)) {
            return Message.BUZZ;
        }
        return Message.NUMBER;
    }

    private static boolean divisible(int addr, int by) {
        return Integer.remainderUnsigned(addr, by) == 0;
    }

    /** Whether {@code n} (0..255) is a Fibonacci number. */
    static boolean isFibonacci(int n) {
        for (int a = 0, b = 1; a <= n; ) {
            if (a == n) {
                return true;
            }
            int next = a + b;
            a = b;
            b = next;
        }
        return false;
    }
}
