package dev.panbpf.event;

import java.util.Arrays;

/**
 * EnumTable maps the C integers of an enum component to its constants and back, built once per enum class:
 * an array indexed by value when the values are small and dense, a sorted search otherwise.
 */
final class EnumTable {
    /** Dense tables up to this many slots; beyond it the sorted arrays are searched. */
    private static final int MAX_DENSE = 1024;

    private final Class<?> type;
    private final String field;
    private final Enum<?>[] dense;     // dense[value] or null when the values are not dense
    private final long[] sortedValues; // ascending, with sortedConstants in the same order
    private final Enum<?>[] sortedConstants;
    private final long[] valueByOrdinal;

    private EnumTable(Class<?> type, String field, Enum<?>[] dense, long[] sortedValues,
                      Enum<?>[] sortedConstants, long[] valueByOrdinal) {
        this.type = type;
        this.field = field;
        this.dense = dense;
        this.sortedValues = sortedValues;
        this.sortedConstants = sortedConstants;
        this.valueByOrdinal = valueByOrdinal;
    }

    /** Builds the table of {@code type} for the component {@code field}; duplicate values are refused. */
    static EnumTable of(Class<?> type, String field) {
        Enum<?>[] constants = (Enum<?>[]) type.getEnumConstants();
        long[] byOrdinal = new long[constants.length];
        for (Enum<?> c : constants) {
            byOrdinal[c.ordinal()] = c instanceof EnumValue v ? v.value() : c.ordinal();
        }
        Integer[] order = new Integer[constants.length];
        Arrays.setAll(order, i -> i);
        Arrays.sort(order, (a, b) -> Long.compare(byOrdinal[a], byOrdinal[b]));
        long[] sorted = new long[constants.length];
        Enum<?>[] sortedConstants = new Enum<?>[constants.length];
        for (int i = 0; i < order.length; i++) {
            sorted[i] = byOrdinal[order[i]];
            sortedConstants[i] = constants[order[i]];
            if (i > 0 && sorted[i] == sorted[i - 1]) {
                throw new IllegalArgumentException("enum " + type.getName() + " of component '" + field
                        + "': constants " + sortedConstants[i - 1] + " and " + sortedConstants[i]
                        + " have the same value " + sorted[i] + "; each C value needs one constant");
            }
        }
        Enum<?>[] dense = null;
        if (sorted.length > 0 && sorted[0] >= 0 && sorted[sorted.length - 1] < MAX_DENSE) {
            dense = new Enum<?>[(int) sorted[sorted.length - 1] + 1];
            for (int i = 0; i < sorted.length; i++) {
                dense[(int) sorted[i]] = sortedConstants[i];
            }
        }
        return new EnumTable(type, field, dense, sorted, sortedConstants, byOrdinal);
    }

    /** The constant for the C integer {@code value}; an unknown value fails, naming the field and the value. */
    Object decode(long value) {
        Enum<?>[] d = dense;
        if (d != null) {
            if (value >= 0 && value < d.length && d[(int) value] != null) {
                return d[(int) value];
            }
        } else {
            int i = Arrays.binarySearch(sortedValues, value);
            if (i >= 0) {
                return sortedConstants[i];
            }
        }
        throw new IllegalArgumentException("event field '" + field + "': value " + value + " has no constant in "
                + type.getSimpleName() + " (known: " + Arrays.toString(sortedValues) + ")");
    }

    /** The C integer of {@code constant}. */
    long encode(Object constant) {
        if (constant == null) {
            throw new NullPointerException("record component '" + field + "' is null; a C enum needs a constant");
        }
        return valueByOrdinal[((Enum<?>) constant).ordinal()];
    }

    /** The smallest and largest value, for checking that they fit the C width. */
    long min() {
        return sortedValues.length == 0 ? 0 : sortedValues[0];
    }

    /** The largest value. */
    long max() {
        return sortedValues.length == 0 ? 0 : sortedValues[sortedValues.length - 1];
    }
}
