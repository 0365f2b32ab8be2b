package dev.panbpf;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Cpus lists this machine's CPUs as the kernel numbers them, from {@code /sys/devices/system/cpu}. */
public final class Cpus {
    private Cpus() { }

    /** The CPUs that are online now (perf buffers open one event per online CPU). */
    public static List<Integer> online() {
        return read("online");
    }

    /** Every CPU that could come online (per-CPU maps are sized by this). */
    public static List<Integer> possible() {
        return read("possible");
    }

    private static List<Integer> read(String which) {
        Path p = Path.of("/sys/devices/system/cpu", which);
        try {
            return parse(Files.readString(p));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + p + "; is /sys mounted?", e);
        }
    }

    /** Parses the kernel's CPU list format, such as {@code "0-3,5,7-8"}. */
    public static List<Integer> parse(String list) {
        List<Integer> cpus = new ArrayList<>();
        for (String part : list.trim().split(",")) {
            if (part.isEmpty()) {
                continue;
            }
            int dash = part.indexOf('-');
            try {
                int from = Integer.parseInt(dash < 0 ? part : part.substring(0, dash));
                int to = dash < 0 ? from : Integer.parseInt(part.substring(dash + 1));
                if (from < 0 || to < from) {
                    throw new IllegalArgumentException("bad CPU range '" + part + "' in '" + list.trim() + "'");
                }
                for (int c = from; c <= to; c++) {
                    cpus.add(c);
                }
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("bad CPU list '" + list.trim() + "'", e);
            }
        }
        return List.copyOf(cpus);
    }
}
