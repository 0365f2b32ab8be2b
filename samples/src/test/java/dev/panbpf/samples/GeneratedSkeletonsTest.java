package dev.panbpf.samples;

import dev.panbpf.codegen.Generator;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The generated skeletons in this repository are committed (core, the benchmarks and the samples build without the
 * Maven plugin, which is built after them): they must be what the generator writes from the committed objects today. To regenerate, run this
 * test with -Dpanbpf.regenerate=true and commit the result.
 */
class GeneratedSkeletonsTest {
    private static final Path OBJECTS = Path.of("../bpf-src/src/main/resources/dev/panbpf/bpf");

    /**
     * The objects whose skeletons are committed: the object, the package, the source root. The producer drives the
     * core tests, the benchmarks and the compare sample; each module has its own copy because the modules build
     * before the generator or do not depend on each other.
     */
    private static final List<String[]> SKELETONS = List.<String[]>of(
            new String[] {"producer.bpf.o", "dev.panbpf.samples.compare", "src/main/java"},
            new String[] {"sample_deletions.bpf.o", "dev.panbpf.samples.deletions", "src/main/java"},
            new String[] {"sample_xdp_events.bpf.o", "dev.panbpf.samples.xdp", "src/main/java"},
            new String[] {"producer.bpf.o", "dev.panbpf.testing", "../core/src/test/java"},
            new String[] {"producer.bpf.o", "dev.panbpf.bench", "../benchmarks/src/main/java"});

    @Test
    void committedSkeletonsMatchTheCommittedObjects() {
        List<String> stale = new ArrayList<>();
        for (String[] s : SKELETONS) {
            Generator.Result r = Generator.of(OBJECTS.resolve(s[0])).packageName(s[1]).generate();
            if (Boolean.getBoolean("panbpf.regenerate")) {
                r.writeTo(Path.of(s[2]));
                continue;
            }
            for (Generator.SourceFile f : r.files()) {
                Path p = Path.of(s[2]).resolve(f.path());
                try {
                    if (!Files.exists(p) || !Files.readString(p).equals(f.source())) {
                        stale.add(p.toString());
                    }
                } catch (java.io.IOException e) {
                    stale.add(p + " (" + e.getMessage() + ")");
                }
            }
        }
        assertEquals(List.of(), stale, "generated sources differ from what the committed objects generate; run "
                + "mvn -pl samples -am verify -Dtest=GeneratedSkeletonsTest -Dpanbpf.regenerate=true "
                + "-Dsurefire.failIfNoSpecifiedTests=false and commit");
    }
}
