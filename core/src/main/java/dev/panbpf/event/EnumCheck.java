package dev.panbpf.event;

import dev.panbpf.BpfObject;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * EnumCheck compares a Java enum implementing {@link EnumValue} with the C enum of a BPF object's BTF, constant by
 * constant, so that an enum generated from an older build fails when the object loads instead of mislabelling
 * values later.
 */
public final class EnumCheck {
    private EnumCheck() { }

    /**
     * EnumCheck.verify throws unless {@code type} has exactly the constants of C enum {@code cEnum}, by name (a
     * Java keyword gets a trailing underscore, as the generator writes it) and value.
     *
     * @param <E> the Java enum type
     * @param object the BPF object whose BTF holds the enum
     * @param cEnum the C enum's name
     * @param type the Java enum to check
     * @throws StructMismatchException listing every constant that is missing, extra or has another value
     * @throws dev.panbpf.BpfException when the object has no such enum
     */
    public static <E extends Enum<E> & EnumValue> void verify(BpfObject object, String cEnum, Class<E> type) {
        Map<String, Long> c = object.enumConstants(cEnum);
        Map<String, Long> java = new LinkedHashMap<>();
        for (E e : type.getEnumConstants()) {
            java.put(e.name().endsWith("_") ? e.name().substring(0, e.name().length() - 1) : e.name(), e.value());
        }
        List<String> differences = new ArrayList<>();
        Map<Long, String> cByValue = new LinkedHashMap<>();
        for (var e : c.entrySet()) {
            cByValue.putIfAbsent(e.getValue(), e.getKey());
        }
        for (var e : cByValue.entrySet()) {
            Long v = java.get(e.getValue());
            if (v == null) {
                differences.add("C constant " + e.getValue() + " = " + e.getKey() + " has no Java constant");
            } else if (v.longValue() != e.getKey()) {
                differences.add("constant " + e.getValue() + " is " + e.getKey() + " in C but " + v + " in Java");
            }
        }
        for (var e : java.entrySet()) {
            if (!c.containsKey(e.getKey())) {
                differences.add("Java constant " + e.getKey() + " = " + e.getValue() + " is not in the C enum");
            }
        }
        if (!differences.isEmpty()) {
            throw new StructMismatchException("enum " + type.getName() + " does not match enum " + cEnum + " of BPF "
                    + "object '" + object.name() + "' (regenerate it from the current object):\n  "
                    + String.join("\n  ", differences), differences);
        }
    }
}
