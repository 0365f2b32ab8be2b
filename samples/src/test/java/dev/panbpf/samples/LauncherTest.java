package dev.panbpf.samples;

import dev.panbpf.testing.Kernel;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.jar.Attributes;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The {@code ./panbpf} launcher and {@code scripts/setup.sh} run as user nobody. The launcher and the script are
 * copied, with a CLI jar whose manifest points at a copy of this module's class path (the shaded jar is built only
 * after the tests), into a directory laid out as the repository is. setup.sh runs as nobody only: as root it would
 * install packages.
 */
@Timeout(300)
class LauncherTest {
    private static final Set<Capability> NONE = EnumSet.noneOf(Capability.class);
    private static final String JAVA_HOME = System.getProperty("java.home");

    private static AsNobody nobody;
    private static Path repo;

    @BeforeAll
    static void copyTheLauncher() throws IOException {
        Kernel.requireRoot();
        Kernel.require(Files.isExecutable(Path.of("/usr/bin/setpriv")), "setpriv (util-linux) to drop privileges");
        Kernel.require(Files.isExecutable(Path.of("/usr/bin/unshare")), "unshare (util-linux) for a mount namespace");
        Path source = Path.of("..").toAbsolutePath().normalize();
        nobody = AsNobody.prepare();
        repo = nobody.root();
        Files.copy(source.resolve("panbpf"), repo.resolve("panbpf"));
        Files.createDirectories(repo.resolve("scripts"));
        Files.copy(source.resolve("scripts/setup.sh"), repo.resolve("scripts/setup.sh"));
        Path jar = Files.createDirectories(repo.resolve("samples/target")).resolve("panbpf-cli.jar");
        writeCliJar(jar);
        nobody.openToEveryone(repo);
    }

    @AfterAll
    static void cleanUp() throws IOException {
        if (nobody != null) {
            nobody.close();
        }
    }

    /** A jar with the CLI's manifest whose Class-Path names the copied class path, relative to the jar. */
    private static void writeCliJar(Path jar) throws IOException {
        List<String> entries = new ArrayList<>();
        for (Path p : nobody.classPath()) {
            entries.add("../../" + repo.relativize(p) + (Files.isDirectory(p) ? "/" : ""));
        }
        Manifest m = new Manifest();
        m.getMainAttributes().put(Attributes.Name.MANIFEST_VERSION, "1.0");
        m.getMainAttributes().put(Attributes.Name.MAIN_CLASS, Main.class.getName());
        m.getMainAttributes().put(Attributes.Name.CLASS_PATH, String.join(" ", entries));
        m.getMainAttributes().putValue("Enable-Native-Access", "ALL-UNNAMED");
        try (OutputStream out = Files.newOutputStream(jar); JarOutputStream ignored = new JarOutputStream(out, m)) {
            // the manifest is the whole jar
        }
    }

    private static List<String> launcher(String... args) {
        List<String> cmd = new ArrayList<>(List.of("env", "JAVA_HOME=" + JAVA_HOME, repo.resolve("panbpf").toString()));
        cmd.addAll(List.of(args));
        return cmd;
    }

    /** setup.sh run by bash directly, with {@code path} as the PATH: no tool but bash's builtins and java. */
    private static List<String> setup(String path, String... args) {
        List<String> cmd = new ArrayList<>(List.of("env", "-i", "PATH=" + path, "JAVA_HOME=" + JAVA_HOME,
                "/bin/bash", repo.resolve("scripts/setup.sh").toString()));
        cmd.addAll(List.of(args));
        return cmd;
    }

    private static final String PATH = "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin";

    @Test
    void theLauncherShowsHelpAndRunsCheckForAUserWithNoPrivilege() throws Exception {
        AsNobody.Result help = nobody.run(NONE, launcher("--help"));
        assertEquals(0, help.status(), help.output());
        assertTrue(help.output().contains("usage: panbpf"), help.output());
        assertFalse(help.output().contains("needs root"), help.output());

        AsNobody.Result check = nobody.run(NONE, launcher("check"));
        assertEquals(Main.MISSING, check.status(), check.output());
        assertTrue(check.output().contains("capabilities each command needs without root"), check.output());
        assertFalse(check.output().contains("panbpf setup:"), "setup has nothing to ask for check: "
                + check.output());
    }

    @Test
    void theLauncherRunsASampleUnderTheAmbientCapabilitiesTheAdviceNames() throws Exception {
        // check advises: sudo setpriv --reuid=... --inh-caps=... --ambient-caps=... ./panbpf COMMAND
        AsNobody.Result r = nobody.run(EnumSet.of(Capability.BPF, Capability.NET_ADMIN),
                launcher("fizzbuzz", "--count", "3"));
        assertEquals(0, r.status(), r.output());
        assertTrue(r.output().contains("Fizz"), r.output());
    }

    @Test
    void setupFindsTracefsInTheMountTableThoughItsDirectoryIsRootsAlone() throws Exception {
        for (String command : List.of("deletions", "printk")) {
            AsNobody.Result r = nobody.run(NONE, setup(PATH, command));
            assertEquals(0, r.status(), r.output());
            assertFalse(r.output().contains("tracefs"), command + ": " + r.output());
            assertTrue(r.output().strip().endsWith(JAVA_HOME), "the JDK on the last line: " + r.output());
        }
    }

    @Test
    void setupAsksForRootToMountTracefsOnlyForTheCommandsThatNeedIt() throws Exception {
        List<String> unmounted = List.of("umount /sys/kernel/tracing");
        for (String command : List.of("--help", "check", "compare", "fizzbuzz", "xdp-events")) {
            AsNobody.Result r = nobody.run(NONE, unmounted, setup(PATH, command));
            assertEquals(0, r.status(), r.output());
            assertFalse(r.output().contains("panbpf setup:"), command + ": " + r.output());
        }
        AsNobody.Result deletions = nobody.run(NONE, unmounted, setup(PATH, "deletions"));
        assertEquals(0, deletions.status(), "a sample goes on, so its own check can explain: " + deletions.output());
        assertTrue(deletions.output().contains("./panbpf deletions needs tracefs at /sys/kernel/tracing, which is not "
                + "mounted; mounting it needs root") && deletions.output().contains("sudo mount -t tracefs"),
                deletions.output());

        AsNobody.Result tests = nobody.run(NONE, unmounted, setup(PATH));
        assertEquals(1, tests.status(), "the tests cannot run without it: " + tests.output());
        assertTrue(tests.output().contains("needs tracefs"), tests.output());
    }

    @Test
    void setupAsksForRootToInstallOnlyWhatTheCommandNeeds() throws Exception {
        String noTools = "/nonexistent";
        for (String command : List.of("--help", "check", "gen", "compare", "deletions")) {
            AsNobody.Result r = nobody.run(NONE, setup(noTools, command));
            assertEquals(0, r.status(), r.output());
            assertFalse(r.output().contains("panbpf setup:"), command + ": " + r.output());
        }
        AsNobody.Result build = nobody.run(NONE, setup(noTools, "--build", "compare"));
        assertEquals(1, build.status(), build.output());
        assertTrue(build.output().contains("./panbpf compare (building the CLI first) needs packages that are not "
                + "installed: maven; installing them needs root"), build.output());

        AsNobody.Result all = nobody.run(NONE, setup(noTools));
        assertEquals(1, all.status(), all.output());
        assertTrue(all.output().contains("the tests and the benchmarks") && all.output().contains("clang")
                && all.output().contains("maven"), all.output());
    }
}
