package dev.panbpf;

import dev.panbpf.testing.ClassGraph;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The package shape the README's diagram promises, checked on the compiled classes: dependencies point one way
 * (readers to the core, never back, and never from one buffer protocol to the other), no circle of files runs
 * through a reader package or typed events, and files stay small enough to hold one idea.
 */
class ArchitectureTest {
    private static ClassGraph graph;

    /** What each package may use besides itself. */
    private static final Map<String, Set<String>> ALLOWED = Map.of(
            "dev.panbpf", Set.of("dev.panbpf.internal"),
            "dev.panbpf.internal", Set.of("dev.panbpf"),
            "dev.panbpf.event", Set.of("dev.panbpf", "dev.panbpf.internal"),
            "dev.panbpf.ringbuf", Set.of("dev.panbpf", "dev.panbpf.internal", "dev.panbpf.event"),
            "dev.panbpf.perf", Set.of("dev.panbpf", "dev.panbpf.internal", "dev.panbpf.event"));

    @BeforeAll
    static void read() throws IOException, URISyntaxException {
        graph = ClassGraph.of(Path.of(BpfObject.class.getProtectionDomain().getCodeSource().getLocation().toURI()));
    }

    private static String packageOf(String file) {
        return file.substring(0, file.lastIndexOf('.'));
    }

    @Test
    void packagesDependOnlyTheWayTheDiagramShows() {
        List<String> wrong = new ArrayList<>();
        for (String file : graph.files()) {
            String pkg = packageOf(file);
            Set<String> allowed = ALLOWED.get(pkg);
            assertTrue(allowed != null, "a package the diagram does not show: " + pkg);
            for (String used : graph.uses(file)) {
                String usedPkg = packageOf(used);
                if (!usedPkg.equals(pkg) && !allowed.contains(usedPkg)) {
                    wrong.add(file + " uses " + used);
                }
            }
        }
        assertEquals(List.of(), wrong);
    }

    @Test
    void noCircleOfFilesRunsThroughAReaderPackageOrTypedEvents() {
        // The object model (object, programs, maps, links) refers both ways by nature and stays in dev.panbpf
        // with its plumbing; everything built on it must be a tree that can be read bottom up.
        List<List<String>> bad = graph.cycles().stream()
                .filter(c -> c.stream().anyMatch(f -> !packageOf(f).equals("dev.panbpf")
                        && !packageOf(f).equals("dev.panbpf.internal")))
                .toList();
        assertEquals(List.of(), bad);
    }

    @Test
    void readerEventAndPlumbingFilesStayUnder400Lines() throws IOException {
        assertEquals(List.of(), longerThan(400, "ringbuf", "perf", "event", "internal"));
    }

    @Test
    void apiNounsStayUnder450Lines() throws IOException {
        // BpfMap and BpfObject carry the most public methods, each with its contract; past 450 they get split.
        assertEquals(List.of(), longerThan(450, ""));
    }

    /** Source files under src/main/java/dev/panbpf/{@code dirs} (all of it for "") longer than {@code limit}. */
    private static List<String> longerThan(int limit, String... dirs) throws IOException {
        List<String> found = new ArrayList<>();
        for (String dir : dirs) {
            Path root = Path.of("src/main/java/dev/panbpf", dir);
            try (Stream<Path> files = Files.walk(root)) {
                for (Path p : files.filter(f -> f.toString().endsWith(".java")).toList()) {
                    long lines;
                    try (Stream<String> l = Files.lines(p)) {
                        lines = l.count();
                    }
                    if (lines > limit) {
                        found.add(p + " (" + lines + " lines)");
                    }
                }
            }
        }
        return found;
    }
}
