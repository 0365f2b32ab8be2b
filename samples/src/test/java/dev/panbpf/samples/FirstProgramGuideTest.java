package dev.panbpf.samples;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * docs/first-program.md shows the example project's files in full; CI builds and runs that project, so the guide
 * is tested as long as each shown file is the project's file. Each {@code <!-- include: PATH -->} line is followed
 * by a fenced block that must hold exactly the file at PATH (relative to the repository). With
 * -Dpanbpf.regenerate=true the blocks are rewritten from the files instead.
 */
class FirstProgramGuideTest {
    private static final Path ROOT = Path.of("..").toAbsolutePath().normalize();
    private static final Path GUIDE = ROOT.resolve("docs/first-program.md");
    /** The marker, the fence that opens the block (with its language), the block, the closing fence. */
    private static final Pattern BLOCK = Pattern.compile(
            "<!-- include: (\\S+) -->\n(```\\w*\n)(.*?)(```)\n", Pattern.DOTALL);

    @Test
    void everyFileTheGuideShowsIsTheExampleProjectsFile() throws IOException {
        String guide = Files.readString(GUIDE);
        Matcher m = BLOCK.matcher(guide);
        StringBuilder regenerated = new StringBuilder();
        List<String> shown = new ArrayList<>();
        List<String> stale = new ArrayList<>();
        while (m.find()) {
            String path = m.group(1);
            String file = Files.readString(ROOT.resolve(path));
            assertTrue(file.endsWith("\n") && !file.contains("```"), path + " cannot be shown in a fenced block");
            shown.add(path);
            if (!m.group(3).equals(file)) {
                stale.add(path);
            }
            m.appendReplacement(regenerated, Matcher.quoteReplacement(
                    "<!-- include: " + path + " -->\n" + m.group(2) + file + m.group(4) + "\n"));
        }
        m.appendTail(regenerated);
        if (Boolean.getBoolean("panbpf.regenerate")) {
            Files.writeString(GUIDE, regenerated.toString());
            return;
        }
        assertEquals(List.of("samples/example-project/src/main/bpf/execsnoop.bpf.c",
                "samples/example-project/pom.xml",
                "samples/example-project/src/main/java/org/example/execsnoop/Main.java",
                "samples/example-project/run.sh"), shown, "the guide shows the whole project, in this order");
        assertEquals(List.of(), stale, "docs/first-program.md differs from the example project; run mvn -pl samples "
                + "-am verify -Dtest=FirstProgramGuideTest -Dpanbpf.regenerate=true "
                + "-Dsurefire.failIfNoSpecifiedTests=false and commit");
    }
}
