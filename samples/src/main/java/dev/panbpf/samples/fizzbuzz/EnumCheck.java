package dev.panbpf.samples.fizzbuzz;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * EnumCheck compares a Java enum with a C enum read from a BPF object's BTF: every Java constant must exist in C
 * as {@code prefix + name} with its ordinal as value, and C must have nothing more.
 */
public final class EnumCheck {
    private EnumCheck() { }

    /** Returns one line per difference; empty when the two enums match. */
    public static <E extends Enum<E>> List<String> differences(Class<E> java, String prefix, Map<String, Long> c) {
        List<String> diffs = new ArrayList<>();
        Map<String, Long> unmatched = new TreeMap<>(c);
        for (E e : java.getEnumConstants()) {
            String cName = prefix + e.name();
            Long v = unmatched.remove(cName);
            if (v == null) {
                diffs.add(java.getSimpleName() + "." + e.name() + " (" + e.ordinal() + ") has no " + cName + " in C");
            } else if (v != e.ordinal()) {
                diffs.add(cName + " is " + v + " in C but " + java.getSimpleName() + "." + e.name() + " is "
                        + e.ordinal() + " in Java");
            }
        }
        unmatched.forEach((name, v) -> diffs.add(name + " (" + v + ") in C has no constant in "
                + java.getSimpleName()));
        return diffs;
    }

    /** Throws, listing every difference, unless the enums match. */
    public static <E extends Enum<E>> void require(Class<E> java, String cEnum, String prefix, Map<String, Long> c) {
        List<String> diffs = differences(java, prefix, c);
        if (!diffs.isEmpty()) {
            throw new IllegalStateException("enum " + cEnum + " in the BPF object and " + java.getName()
                    + " disagree; messages would be mislabelled:\n  " + String.join("\n  ", diffs)
                    + "\nfix: make both lists the same (names and order), then rebuild bpf-src and samples");
        }
    }
}
