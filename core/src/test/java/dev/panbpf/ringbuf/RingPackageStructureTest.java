package dev.panbpf.ringbuf;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The ring package reads top to bottom: its files depend on each other without cycles, so each can be understood
 * from the ones below it, and none is too long to read. A file depends on another when its code names it (nested
 * classes count as their file) or its Javadoc links to it; string literals and plain comments do not count.
 */
class RingPackageStructureTest {
    private static final Path MAIN = Path.of("src/main/java/dev/panbpf/ringbuf");
    private static final Path TESTS = Path.of("src/test/java/dev/panbpf/ringbuf");
    private static final int MAX_LINES = 400;
    private static final Pattern LINK = Pattern.compile("(?:\\{@link(?:plain)?|@see)\\s+([\\w.]+)");
    private static final Pattern STRING = Pattern.compile("\"(?:\\\\.|[^\"\\\\])*\"");
    private static final Pattern COMMENT = Pattern.compile("(?s)/\\*.*?\\*/|//[^\\n]*");

    @Test
    void theFilesOfTheRingPackageDependOnEachOtherWithoutCycles() throws IOException {
        Map<String, String> sources = sources(MAIN);
        assertTrue(sources.containsKey("RingBuffer"), "run from the core module: " + MAIN.toAbsolutePath());
        Map<String, TreeSet<String>> uses = new TreeMap<>();
        for (var e : sources.entrySet()) {
            uses.put(e.getKey(), dependencies(e.getKey(), e.getValue(), sources.keySet()));
        }
        for (String start : uses.keySet()) {
            List<String> cycle = cycleFrom(start, start, uses, new ArrayList<>(List.of(start)), new TreeSet<>());
            assertNull(cycle, () -> "import cycle: " + String.join(" -> ", cycle) + " (all uses: " + uses + ")");
        }
    }

    @Test
    void everyFileOfTheRingPackageAndItsTestsIsUnder400Lines() throws IOException {
        List<String> tooLong = new ArrayList<>();
        for (Path dir : List.of(MAIN, TESTS)) {
            for (var e : sources(dir).entrySet()) {
                long lines = e.getValue().lines().count();
                if (lines >= MAX_LINES) {
                    tooLong.add(dir.resolve(e.getKey() + ".java") + ": " + lines);
                }
            }
        }
        assertEquals(List.of(), tooLong);
    }

    /** The files of {@code dir}, by class name. */
    private static Map<String, String> sources(Path dir) throws IOException {
        Map<String, String> out = new TreeMap<>();
        try (Stream<Path> files = Files.list(dir)) {
            for (Path f : files.filter(p -> p.toString().endsWith(".java")).toList()) {
                String name = f.getFileName().toString();
                out.put(name.substring(0, name.length() - ".java".length()), Files.readString(f));
            }
        }
        return out;
    }

    /** The other files of the package that {@code source} names in code or links to in its Javadoc. */
    private static TreeSet<String> dependencies(String self, String source, Iterable<String> files) {
        StringBuilder named = new StringBuilder();
        Matcher links = LINK.matcher(source);
        while (links.find()) {
            named.append(' ').append(links.group(1));
        }
        String code = COMMENT.matcher(STRING.matcher(source).replaceAll("\"\"")).replaceAll(" ");
        named.append(' ').append(code);
        TreeSet<String> out = new TreeSet<>();
        for (String other : files) {
            if (!other.equals(self) && Pattern.compile("\\b" + other + "\\b").matcher(named).find()) {
                out.add(other);
            }
        }
        return out;
    }

    /** A path from {@code at} back to {@code start}, or null when there is none. */
    private static List<String> cycleFrom(String start, String at, Map<String, TreeSet<String>> uses,
                                          List<String> path, TreeSet<String> seen) {
        for (String next : uses.get(at)) {
            if (next.equals(start)) {
                List<String> cycle = new ArrayList<>(path);
                cycle.add(start);
                return cycle;
            }
            if (seen.add(next)) {
                path.add(next);
                List<String> found = cycleFrom(start, next, uses, path, seen);
                if (found != null) {
                    return found;
                }
                path.removeLast();
            }
        }
        return null;
    }
}
