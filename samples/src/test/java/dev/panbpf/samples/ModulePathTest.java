package dev.panbpf.samples;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The samples as a modular application: a child JVM runs the fizzbuzz sample with {@code -m
 * dev.panbpf.samples/...} on the module path this test runs on, so the sample gets only what {@code dev.panbpf}
 * exports (the bindings are exported to dev.panbpf alone), and native access is granted by name to the library's two
 * modules (dev.panbpf and dev.panbpf.bindings) and to nothing of the sample's.
 */
class ModulePathTest {
    @Test
    void theFizzBuzzSampleRunsAsAModuleWithNativeAccessForTheLibrarysTwoModulesOnly() throws IOException, InterruptedException {
        assertEquals("dev.panbpf.samples", ModulePathTest.class.getModule().getName(),
                "this test class itself runs on the module path");
        String modulePath = System.getProperty("jdk.module.path");
        assertNotNull(modulePath, "surefire runs the samples' tests on the module path");
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process p = new ProcessBuilder(List.of(java, "--module-path", modulePath, "--enable-native-access=dev.panbpf,dev.panbpf.bindings",
                "-m", "dev.panbpf.samples/dev.panbpf.samples.Main", "fizzbuzz", "--count", "15"))
                .redirectErrorStream(true).start();
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "the sample finished");
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, p.exitValue(), output);
        assertTrue(output.contains("checked against the object's BTF"), output);
        assertTrue(output.contains("fizzbuzz"), output);
        assertFalse(output.contains("WARNING"), "no restricted-method warning: " + output);
    }

    @Test
    void jfrRecordsTheLibrarysEventsFromItsUnexportedPackageWhenItRunsAsAModule() throws IOException, InterruptedException {
        // The event classes live in dev.panbpf.internal, which the module does not export: JFR must still take
        // them, through the command-line option an operator would use for an event no .jfc names.
        Path jfr = Files.createTempFile("panbpf-modules-", ".jfr");
        try {
            String modulePath = System.getProperty("jdk.module.path");
            Path bin = Path.of(System.getProperty("java.home"), "bin");
            Process p = new ProcessBuilder(List.of(bin.resolve("java").toString(), "--module-path", modulePath,
                    "--enable-native-access=dev.panbpf,dev.panbpf.bindings",
                    "-XX:StartFlightRecording:filename=" + jfr + ",+dev.panbpf.ConsumerPass#threshold=0ms",
                    "-m", "dev.panbpf.samples/dev.panbpf.samples.Main", "deletions", "--seconds", "1"))
                    .redirectErrorStream(true).start();
            assertTrue(p.waitFor(60, TimeUnit.SECONDS), "the sample finished");
            String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertEquals(0, p.exitValue(), output);
            assertTrue(output.contains("panbpf-deletions-"), "it saw its own deletion: " + output);
            Process print = new ProcessBuilder(List.of(bin.resolve("jfr").toString(), "print", "--events",
                    "dev.panbpf.ConsumerPass", jfr.toString())).redirectErrorStream(true).start();
            String events = new String(print.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(print.waitFor(60, TimeUnit.SECONDS));
            assertEquals(0, print.exitValue(), events);
            assertTrue(events.contains("dev.panbpf.ConsumerPass"), "a pass was recorded: " + events);
            assertTrue(events.contains("map = \"deletions\""), events);
            assertTrue(events.contains("reader = \"RingBuffer\""), events);
        } finally {
            Files.deleteIfExists(jfr);
        }
    }

    @Test
    void theBindingsAreNotReadableFromTheSamplesModule() {
        Module samples = ModulePathTest.class.getModule();
        Module core = dev.panbpf.BpfObject.class.getModule();
        assertEquals("dev.panbpf", core.getName());
        Module bindings = core.getLayer().findModule("dev.panbpf.bindings").orElseThrow();
        assertFalse(bindings.isExported("dev.panbpf.bindings", samples), "bindings exported only to dev.panbpf");
        assertTrue(bindings.isExported("dev.panbpf.bindings", core));
        assertFalse(core.isExported("dev.panbpf.internal"), "the FFM plumbing and the JFR events stay unexported");
        for (String pkg : List.of("dev.panbpf", "dev.panbpf.ringbuf", "dev.panbpf.perf", "dev.panbpf.event")) {
            assertTrue(core.isExported(pkg), pkg);
        }
    }
}
