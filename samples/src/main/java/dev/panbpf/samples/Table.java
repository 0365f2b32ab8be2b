package dev.panbpf.samples;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;

/** Table prints rows under a header in aligned columns: the first left-aligned, the others right-aligned. */
public final class Table {
    private final List<String> header;
    private final List<List<String>> rows = new ArrayList<>();

    /** Table with these column titles. */
    public Table(String... header) {
        this.header = List.of(header);
    }

    /** Adds a row; cells are printed with {@link String#valueOf(Object)}. */
    public Table row(Object... cells) {
        if (cells.length != header.size()) {
            throw new IllegalArgumentException("row has " + cells.length + " cells, table has " + header.size());
        }
        List<String> r = new ArrayList<>();
        for (Object c : cells) {
            r.add(String.valueOf(c));
        }
        rows.add(r);
        return this;
    }

    /** Prints the header, a rule, and the rows. */
    public void print(PrintStream out) {
        int[] width = new int[header.size()];
        for (List<String> r : allRows()) {
            for (int i = 0; i < r.size(); i++) {
                width[i] = Math.max(width[i], r.get(i).length());
            }
        }
        line(header, width, out);
        StringBuilder rule = new StringBuilder();
        for (int w : width) {
            rule.append(rule.isEmpty() ? "" : "  ").append("-".repeat(w));
        }
        out.println(rule);
        rows.forEach(r -> line(r, width, out));
    }

    private List<List<String>> allRows() {
        List<List<String>> all = new ArrayList<>(rows);
        all.add(header);
        return all;
    }

    private static void line(List<String> cells, int[] width, PrintStream out) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < cells.size(); i++) {
            String fmt = i == 0 ? "%-" + width[i] + "s" : "%" + width[i] + "s";
            b.append(i == 0 ? "" : "  ").append(String.format(fmt, cells.get(i)));
        }
        out.println(b.toString().stripTrailing());
    }

    /** Formats a count with thousands separators, such as {@code 1,234,567}. */
    public static String count(long n) {
        return String.format("%,d", n);
    }

    /** Formats a byte count in KiB or MiB. */
    public static String bytes(long n) {
        return n >= 1 << 20 && n % (1 << 20) == 0 ? n / (1 << 20) + " MiB"
                : n >= 1 << 10 ? String.format("%,d KiB", n / 1024) : n + " B";
    }
}
