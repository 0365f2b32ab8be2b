package dev.panbpf.event;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** GccProbe compiles a C probe with gcc for this machine, runs it and returns what it printed (the layout tests). */
final class GccProbe {
    private GccProbe() { }

    /** Compiles {@code source} with gcc, {@code -std=gnu11} and {@code flags}, in a temporary directory; runs it. */
    static String run(String source, String... flags) throws Exception {
        Path dir = Files.createTempDirectory("panbpf-layout");
        try {
            Files.writeString(dir.resolve("probe.c"), source);
            List<String> gcc = new ArrayList<>(List.of("gcc", "-std=gnu11"));
            gcc.addAll(List.of(flags));
            gcc.addAll(List.of("-o", "probe", "probe.c"));
            exec(dir, gcc.toArray(String[]::new));
            return exec(dir, dir.resolve("probe").toString());
        } finally {
            try (var files = Files.list(dir)) {
                for (Path f : files.toList()) {
                    Files.delete(f);
                }
            }
            Files.delete(dir);
        }
    }

    private static String exec(Path dir, String... cmd) throws Exception {
        Process p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "timed out: " + String.join(" ", cmd));
        assertEquals(0, p.exitValue(), String.join(" ", cmd) + ":\n" + out);
        return out;
    }
}
