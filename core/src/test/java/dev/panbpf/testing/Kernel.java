package dev.panbpf.testing;

import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Assumptions;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Kernel decides what a test does when this machine lacks something it needs: skip with the reason, or, when
 * the system property {@code panbpf.requireAll} is true (CI sets it), fail, so that no skip goes unnoticed.
 */
public final class Kernel {
    private Kernel() { }

    /** True when skips are turned into failures. */
    public static boolean requireAll() {
        return Boolean.getBoolean("panbpf.requireAll");
    }

    /** Skips (or fails under requireAll) unless {@code present}. */
    public static void require(boolean present, String what) {
        if (!present) {
            if (requireAll()) {
                Assertions.fail("required by panbpf.requireAll but missing: " + what);
            }
            Assumptions.abort("skipped: " + what);
        }
    }

    /** Requires root, since every test here talks to bpf(2). */
    public static void requireRoot() {
        require("root".equals(System.getProperty("user.name")) || uid() == 0,
                "these tests need root (or CAP_BPF + CAP_PERFMON + CAP_NET_ADMIN)");
    }

    /** Requires tracefs at /sys/kernel/tracing (mount -t tracefs nodev /sys/kernel/tracing). */
    public static void requireTracefs() {
        require(Files.exists(Path.of("/sys/kernel/tracing/events")),
                "tracefs is not mounted: mount -t tracefs nodev /sys/kernel/tracing");
    }

    private static int uid() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("Uid:")) {
                    return Integer.parseInt(line.split("\\s+")[2]);
                }
            }
        } catch (IOException | RuntimeException e) {
            return -1;
        }
        return -1;
    }

    /** The number of open file descriptors of this process. */
    public static int openFds() {
        try (var s = Files.list(Path.of("/proc/self/fd"))) {
            return (int) s.count();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The number of lines of /proc/self/maps, i.e. mappings of this process. */
    public static long mappings() {
        try {
            return Files.readAllLines(Path.of("/proc/self/maps")).size();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }
}
