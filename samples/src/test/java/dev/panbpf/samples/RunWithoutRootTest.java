package dev.panbpf.samples;

import dev.panbpf.samples.net.VethLab;
import dev.panbpf.testing.Kernel;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.Timeout;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The samples run as user nobody. {@code check} and {@code --help} work with no privilege at all, and check tells
 * a missing tracefs or BTF from one this user may not read. Then every sample runs with exactly the capabilities
 * check lists for it, as ambient capabilities: it works; and with any one of them taken away, the CLI refuses to
 * start naming that capability, and the sample's body, run without the check, is refused by the kernel: each
 * capability on the list is needed, and the list is enough.
 */
@Timeout(600)
class RunWithoutRootTest {
    private static final Set<Capability> NONE = EnumSet.noneOf(Capability.class);
    private static final String MAIN = Main.class.getName();

    private static AsNobody nobody;
    private static VethLab lab;

    /** A short run of each line check prints; a new line without one here fails the test. */
    private static final Map<String, Function<VethLab, List<String>>> SHORT_RUNS = Map.of(
            "compare", l -> List.of("compare", "--seconds", "1"),
            "xdp-events", l -> List.of("xdp-events", "--packets", "2"),
            // The interface is the host end of a veth pair this test made as root: nobody could not.
            "xdp-events --interface IF", l -> List.of("xdp-events", "--interface", l.hostEnd(), "--seconds", "1"),
            "deletions", l -> List.of("deletions", "--seconds", "1"),
            "fizzbuzz", l -> List.of("fizzbuzz", "--count", "3"),
            "printk", l -> List.of("printk", "--lines", "1", "--seconds", "1"));

    @BeforeAll
    static void prepare() throws Exception {
        Kernel.requireRoot();
        Kernel.require(Files.isExecutable(Path.of("/usr/bin/setpriv")), "setpriv (util-linux) to drop privileges");
        Kernel.require(Files.isExecutable(Path.of("/usr/bin/unshare")), "unshare (util-linux) for a mount namespace");
        Kernel.require(new Host().onPath("ip"), "the ip command (apt-get install iproute2)");
        nobody = AsNobody.prepare();
        lab = VethLab.create();
    }

    @AfterAll
    static void cleanUp() throws Exception {
        if (lab != null) {
            lab.close();
        }
        if (nobody != null) {
            nobody.close();
        }
    }

    @Test
    void helpAndCheckRunForAUserWithNoPrivilege() throws Exception {
        AsNobody.Result help = nobody.run(NONE, nobody.java(MAIN, List.of("--help")));
        assertEquals(0, help.status(), help.output());
        assertTrue(help.output().contains("usage: panbpf") && help.output().contains("check"), help.output());

        AsNobody.Result check = nobody.run(NONE, nobody.java(MAIN, List.of("check")));
        assertEquals(Main.MISSING, check.status(), check.output());
        String out = check.output();
        assertTrue(out.contains("ok    tracefs mounted at /sys/kernel/tracing"), out);
        assertTrue(out.contains("MISS  tracefs readable by this process"), out);
        assertTrue(out.contains("tracefs is mounted, but this process may not read it"), out);
        assertFalse(out.contains("does not exist"), out);
        assertTrue(out.contains("the process lacks CAP_BPF"), out);
        assertTrue(out.contains("--ambient-caps=") && !out.contains("setcap cap_"), out);
    }

    @Test
    void checkSaysTracefsIsNotMountedWhereItIsNot() throws Exception {
        AsNobody.Result check = nobody.run(NONE, List.of("umount /sys/kernel/tracing"),
                nobody.java(MAIN, List.of("check")));
        String out = check.output();
        assertTrue(out.contains("MISS  tracefs mounted at /sys/kernel/tracing"), out);
        assertTrue(out.contains("nothing is mounted at /sys/kernel/tracing")
                && out.contains("sudo mount -t tracefs nodev /sys/kernel/tracing"), out);
        assertTrue(out.contains("skip  tracefs readable by this process"), out);
    }

    @Test
    void checkTellsMissingKernelBtfFromKernelBtfThisUserMayNotRead() throws Exception {
        Path empty = Files.createDirectories(nobody.root().resolve("empty"));
        AsNobody.Result missing = nobody.run(NONE, List.of("mount --bind " + empty + " /sys/kernel/btf"),
                nobody.java(MAIN, List.of("check")));
        assertTrue(missing.output().contains("/sys/kernel/btf/vmlinux does not exist"), missing.output());

        Path locked = nobody.root().resolve("locked");
        Files.write(locked, new byte[0]);
        Files.setPosixFilePermissions(locked, PosixFilePermissions.fromString("---------"));
        AsNobody.Result unreadable = nobody.run(NONE, List.of("mount --bind " + locked + " /sys/kernel/btf/vmlinux"),
                nobody.java(MAIN, List.of("check")));
        String out = unreadable.output();
        assertTrue(out.contains("/sys/kernel/btf/vmlinux exists, but this process may not read it"), out);
        assertFalse(out.contains("does not exist"), out);
    }

    /** Each sample, run as nobody with exactly the capabilities on its line of check's list. */
    @TestFactory
    Stream<DynamicTest> eachSampleRunsWithExactlyTheCapabilitiesCheckNames() throws Exception {
        return checkLines().entrySet().stream().map(e -> DynamicTest.dynamicTest(
                e.getKey() + " with " + Capability.constants(e.getValue()), () -> {
                    AsNobody.Result r = nobody.run(e.getValue(), nobody.java(MAIN, shortRun(e.getKey())));
                    assertEquals(0, r.status(), r.output());
                    assertFalse(r.output().contains("missing what it needs"), r.output());
                }));
    }

    /** Each sample, run as nobody with its capabilities but one: the CLI names that one, the kernel refuses. */
    @TestFactory
    Stream<DynamicTest> eachSampleIsRefusedWithoutAnyOneOfThemAndTheCliNamesIt() throws Exception {
        List<DynamicTest> tests = new ArrayList<>();
        checkLines().forEach((line, caps) -> {
            for (Capability dropped : caps) {
                EnumSet<Capability> fewer = EnumSet.copyOf(caps);
                fewer.remove(dropped);
                tests.add(DynamicTest.dynamicTest(line + " without " + dropped.constant(), () -> {
                    AsNobody.Result r = nobody.run(fewer, nobody.java(CapabilityProbe.class.getName(),
                            shortRun(line)));
                    String out = r.output();
                    assertTrue(out.contains("CLI STATUS " + Main.MISSING), out);
                    assertTrue(out.contains("lacks " + dropped.constant())
                            || out.contains("grant " + dropped.constant()), "the check names it: " + out);
                    String body = out.lines().filter(l -> l.startsWith("BODY ")).findFirst().orElse("");
                    assertTrue(body.startsWith("BODY FAILED") && refusal(body),
                            "the kernel refuses the sample without " + dropped.constant() + ": " + out);
                }));
            }
        });
        return tests.stream();
    }

    /** Whether {@code failure} is the kernel (or a tool) refusing for want of privilege. */
    private static boolean refusal(String failure) {
        return Stream.of("EPERM", "EACCES", "AccessDeniedException", "Permission denied", "not permitted", "prohibited",
                "cannot use helper").anyMatch(failure::contains);
    }

    private static List<String> shortRun(String line) {
        Function<VethLab, List<String>> run = SHORT_RUNS.get(line);
        if (run == null) {
            throw new AssertionError("check lists '" + line + "'; give it a short run in SHORT_RUNS");
        }
        return run.apply(lab);
    }

    /**
     * The capability lines of {@code check} run as nobody: "  compare   CAP_BPF CAP_PERFMON ...", leaving out the
     * commands that need none.
     */
    private static Map<String, Set<Capability>> checkLines() throws Exception {
        String out = nobody.run(NONE, nobody.java(MAIN, List.of("check"))).output();
        Map<String, Set<Capability>> lines = new LinkedHashMap<>();
        boolean in = false;
        for (String l : out.split("\n")) {
            if (l.startsWith("capabilities each command needs without root")) {
                in = true;
            } else if (in && !l.startsWith("  ")) {
                break;
            } else if (in) {
                List<String> words = Arrays.asList(l.trim().split("\\s+"));
                List<String> caps = words.stream().filter(w -> w.startsWith("CAP_")).toList();
                if (!caps.isEmpty()) {
                    EnumSet<Capability> set = EnumSet.noneOf(Capability.class);
                    caps.forEach(c -> set.add(Capability.valueOf(c.substring(4))));
                    lines.put(String.join(" ", words.subList(0, words.indexOf(caps.get(0)))), set);
                }
            }
        }
        assertTrue(lines.keySet().containsAll(SHORT_RUNS.keySet()), "check's list: " + out);
        return lines;
    }
}
