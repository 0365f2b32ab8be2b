package dev.panbpf.perf;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * PerfLeaks counts this process's perf event fds and mappings exactly, from /proc/self/fd and /proc/self/maps,
 * so leak checks are not disturbed by thread stacks or other helpers' fds.
 */
final class PerfLeaks {
    private static final String PERF = "anon_inode:[perf_event]";

    private PerfLeaks() { }

    /** Open fds that are perf events. */
    static long fds() {
        try (var s = Files.list(Path.of("/proc/self/fd"))) {
            return s.filter(p -> {
                try {
                    return Files.readSymbolicLink(p).toString().equals(PERF);
                } catch (IOException gone) {
                    return false;  // the fd of the listing itself, closed meanwhile
                }
            }).count();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Mappings of perf event rings. */
    static long mappings() {
        try {
            return Files.readAllLines(Path.of("/proc/self/maps")).stream().filter(l -> l.endsWith(PERF)).count();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Bytes mapped for perf event rings, all together. */
    static long mappedBytes() {
        try {
            return Files.readAllLines(Path.of("/proc/self/maps")).stream().filter(l -> l.endsWith(PERF)).mapToLong(l -> {
                String[] range = l.substring(0, l.indexOf(' ')).split("-");
                return Long.parseUnsignedLong(range[1], 16) - Long.parseUnsignedLong(range[0], 16);
            }).sum();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Perf fds and mappings now, to compare with {@link #assertBackTo}. */
    static long[] now() {
        return new long[]{fds(), mappings()};
    }

    /** Asserts that the perf fds and mappings are what they were at {@code before}. */
    static void assertBackTo(long[] before) {
        org.junit.jupiter.api.Assertions.assertArrayEquals(before, now(), "perf event fds and mappings left open");
    }
}
