package dev.panbpf.samples.fizzbuzz;

import dev.panbpf.BpfException;
import dev.panbpf.BpfObject;
import dev.panbpf.testing.Kernel;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

@Timeout(60)
class FizzBuzzTest {
    @Test
    void eachVersionsMessageCountsEqualTheJavaRuleOverTheSameSources() {
        Kernel.requireRoot();
        List<Integer> sources = new ArrayList<>();
        Random r = new Random(8);
        for (int i = 0; i < 5000; i++) { // more than the queue holds, so it is drained while packets flow
            sources.add(r.nextInt());
        }
        for (int n = 0; n < 256; n++) {
            sources.add(0x0a000500 + n); // 10.0.5.n: every last byte, so every Fibonacci case
        }
        try (FizzBuzzQueue queue = FizzBuzzQueue.load()) {
            for (Rule rule : Rule.values()) {
                List<FizzBuzzEntry> got = queue.classify(rule, sources);
                assertEquals(sources.size(), got.size(), rule.name());
                Map<Message, Integer> kernel = new EnumMap<>(Message.class);
                Map<Message, Integer> java = new EnumMap<>(Message.class);
                for (int i = 0; i < sources.size(); i++) {
                    assertEquals((int) sources.get(i), got.get(i).addr(), "FIFO order");
                    kernel.merge(got.get(i).message(), 1, Integer::sum);
                    java.merge(rule.classify(sources.get(i)), 1, Integer::sum);
                }
                assertEquals(java, kernel, rule.name());
            }
        }
    }

    @Test
    void theVersionsDifferWhereTheRuleEvolved() {
        int fifteen = 0x0a00050f;  // 10.0.5.15
        int fibFizz = 0x0a000515;  // 10.0.5.21: divisible by 3, and 21 is a Fibonacci number
        assertEquals(Message.FIZZ, Rule.V1.classify(fifteen));
        assertEquals(Message.FIZZBUZZ, Rule.V2.classify(fifteen));
        assertEquals(Message.FIZZ, Rule.V2.classify(fibFizz));
        assertEquals(Message.FIBONACCI, Rule.V3.classify(fibFizz));
    }

    @Test
    void theObjectsBtfEnumHasExactlyTheJavaMessagesInOrder() {
        Map<String, Long> c = compiledEnum(Message.C_ENUM);
        assertEquals(List.of("FIZZBUZZ_NUMBER", "FIZZBUZZ_FIZZ", "FIZZBUZZ_BUZZ", "FIZZBUZZ_FIZZBUZZ",
                "FIZZBUZZ_FIBONACCI"), List.copyOf(c.keySet()));
        assertEquals(List.of(), EnumCheck.differences(Message.class, Message.C_PREFIX, c));
    }

    /** A Java side that fell out of step: FIZZ and BUZZ swapped, FIBONACCI renamed, one extra constant. */
    enum Drifted { NUMBER, BUZZ, FIZZ, FIZZBUZZ, FIB, PRIME }

    @Test
    void aJavaEnumOutOfStepWithTheCEnumFailsNamingEveryDifference() {
        Map<String, Long> c = compiledEnum(Message.C_ENUM);
        IllegalStateException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalStateException.class,
                () -> EnumCheck.require(Drifted.class, Message.C_ENUM, Message.C_PREFIX, c));
        String m = e.getMessage();
        assertTrue(m.contains("FIZZBUZZ_BUZZ is 2 in C but Drifted.BUZZ is 1 in Java"), m);
        assertTrue(m.contains("FIZZBUZZ_FIZZ is 1 in C but Drifted.FIZZ is 2 in Java"), m);
        assertTrue(m.contains("Drifted.FIB (4) has no FIZZBUZZ_FIB in C"), m);
        assertTrue(m.contains("Drifted.PRIME (5) has no FIZZBUZZ_PRIME in C"), m);
        assertTrue(m.contains("FIZZBUZZ_FIBONACCI (4) in C has no constant in Drifted"), m);
    }

    @Test
    void anEnumMissingFromTheObjectIsAClearError() {
        BpfException e = org.junit.jupiter.api.Assertions.assertThrows(BpfException.class,
                () -> compiledEnum("no_such_enum"));
        assertTrue(e.getMessage().contains("no enum 'no_such_enum'"), e.getMessage());
    }

    /** The constants of {@code name} in the compiled sample object, read through the public BpfObject API. */
    private static Map<String, Long> compiledEnum(String name) {
        try (BpfObject o = BpfObject.open(dev.panbpf.bpf.BpfPrograms.bytes("sample_fizzbuzz.bpf.o"), "fizzbuzz")) {
            return o.enumConstants(name);
        }
    }
}
