package dev.panbpf.samples;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class MainTest {
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final ByteArrayOutputStream err = new ByteArrayOutputStream();

    private int run(String... argv) {
        return new Main().run(List.of(argv), new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8), new Host(), StopSignal.manual());
    }

    @Test
    void helpListsEveryCommandWithItsOptions() {
        assertEquals(0, run("--help"));
        String help = out.toString(StandardCharsets.UTF_8);
        for (Command c : new Main().commands()) {
            assertTrue(help.contains(c.name()), c.name());
            for (Option o : c.options()) {
                assertTrue(help.contains(o.synopsis()), c.name() + " " + o.synopsis());
            }
        }
        assertTrue(help.contains("./panbpf test") && help.contains("./panbpf bench"), "the launcher's own commands");
    }

    @Test
    void oneCommandsHelpShowsItsUsage() {
        assertEquals(0, run("compare", "--help"));
        assertTrue(out.toString(StandardCharsets.UTF_8).contains("--seconds N"));
    }

    @Test
    void anUnknownCommandIsAUsageErrorNamingTheCommands() {
        assertEquals(Main.USAGE, run("frobnicate"));
        assertTrue(err.toString(StandardCharsets.UTF_8).contains("compare"));
    }

    @Test
    void anUnknownOptionIsAUsageError() {
        assertEquals(Main.USAGE, run("compare", "--colour"));
        assertTrue(err.toString(StandardCharsets.UTF_8).contains("unknown argument '--colour'"));
    }

    @Test
    void aBadNumberIsAUsageError() {
        assertEquals(Main.USAGE, run("compare", "--seconds", "soon"), err.toString(StandardCharsets.UTF_8));
        assertTrue(err.toString(StandardCharsets.UTF_8).contains("positive whole number"), err.toString());
    }
}
