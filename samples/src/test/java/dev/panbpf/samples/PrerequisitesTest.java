package dev.panbpf.samples;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PrerequisitesTest {
    /** A host with everything, where each test takes one thing away. */
    static class FullHost extends Host {
        @Override public int javaFeature() { return 25; }
        @Override public boolean nativeAccessEnabled() { return true; }
        @Override public long effectiveCapabilities() { return -1L; }
        @Override public String kernelRelease() { return "6.18.0"; }
        @Override public Access access(String path) { return Access.READABLE; }
        @Override public String mountType(String dir) { return dir.equals("/sys/kernel/tracing") ? "tracefs" : null; }
        @Override public String modeOf(String path) { return "rwx------ root:root"; }
        @Override public boolean onPath(String command) { return true; }
        @Override public boolean libbpfLoads() { return true; }
        @Override public String ringBufferProblem() { return null; }
    }

    /** A full host whose process holds exactly {@code caps}. */
    static Host withCapabilities(Capability... caps) {
        long mask = 0;
        for (Capability c : caps) {
            mask |= 1L << c.number();
        }
        long m = mask;
        return new FullHost() {
            @Override public long effectiveCapabilities() { return m; }
        };
    }

    private static List<Prerequisites.Missing> check(Host h) {
        return Prerequisites.check(EnumSet.allOf(Prerequisite.class), h);
    }

    private static List<Prerequisite> missing(Host h) {
        return check(h).stream().map(Prerequisites.Missing::prerequisite).toList();
    }

    private static String report(String command, Host h) {
        Command c = new Main().commands().stream().filter(x -> x.name().equals(command)).findFirst().orElseThrow();
        Set<Prerequisite> needs = c.needs(Args.parse(List.of(), c.options()));
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        Prerequisites.report(command, needs, Prerequisites.check(needs, h),
                new PrintStream(err, true, StandardCharsets.UTF_8));
        return err.toString(StandardCharsets.UTF_8);
    }

    @Test
    void aCompleteMachineHasNothingMissing() {
        assertEquals(List.of(), check(new FullHost()));
    }

    @Test
    void anUnmountedTracefsIsReportedAsMissingWithTheMountCommand() {
        Host h = new FullHost() {
            @Override public String mountType(String dir) { return null; }
            @Override public Access access(String path) {
                return path.startsWith("/sys/kernel/tracing") ? Access.MISSING : Access.READABLE;
            }
        };
        List<Prerequisites.Missing> m = check(h);
        assertEquals(List.of(Prerequisite.TRACEFS), missing(h), "readability is not probed where nothing is mounted");
        assertTrue(m.get(0).found().contains("nothing is mounted at /sys/kernel/tracing"), m.get(0).describe());
        assertTrue(m.get(0).describe().contains("mount -t tracefs nodev /sys/kernel/tracing"), m.get(0).describe());
    }

    @Test
    void aMountedTracefsThisProcessMayNotReadIsReportedAsNotReadableWithTheCapabilityToGrant() {
        Host h = new FullHost() {
            @Override public Access access(String path) {
                return path.startsWith("/sys/kernel/tracing/") ? Access.UNREADABLE : Access.READABLE;
            }
        };
        List<Prerequisites.Missing> m = check(h);
        assertEquals(List.of(Prerequisite.TRACEFS_READABLE), missing(h));
        String d = m.get(0).describe();
        assertTrue(d.contains("tracefs is mounted, but this process may not read it")
                && d.contains("rwx------ root:root"), d);
        assertFalse(d.contains("does not exist") || d.contains("mount -t tracefs"), d);
        assertTrue(d.contains("CAP_DAC_READ_SEARCH") && d.contains("remount,gid=GROUP,mode=0750"), d);
    }

    @Test
    void missingKernelBtfIsOnlyAWarning() {
        Host h = new FullHost() {
            @Override public Access access(String path) {
                return path.equals("/sys/kernel/btf/vmlinux") ? Access.MISSING : Access.READABLE;
            }
        };
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        boolean go = Prerequisites.report("x", EnumSet.allOf(Prerequisite.class), check(h),
                new PrintStream(err, true, StandardCharsets.UTF_8));
        assertTrue(go);
        String e = err.toString(StandardCharsets.UTF_8);
        assertTrue(e.contains("/sys/kernel/btf/vmlinux does not exist") && e.contains("CONFIG_DEBUG_INFO_BTF"), e);
    }

    @Test
    void unreadableKernelBtfIsToldApartFromMissingWithItsOwnFix() {
        Host h = new FullHost() {
            @Override public Access access(String path) {
                return path.equals("/sys/kernel/btf/vmlinux") ? Access.UNREADABLE : Access.READABLE;
            }
        };
        String d = check(h).get(0).describe();
        assertTrue(d.contains("exists, but this process may not read it") && d.contains("chmod 444"), d);
        assertFalse(d.contains("does not exist") || d.contains("CONFIG_DEBUG_INFO_BTF"), d);
    }

    @Test
    void aProcessWithoutCapabilitiesIsToldTheCommandsAmbientCapabilitiesNotSetcap() {
        String e = report("fizzbuzz", withCapabilities());
        assertTrue(e.contains("needs CAP_BPF") && e.contains("needs CAP_NET_ADMIN"), e);
        assertTrue(e.contains("without root, fizzbuzz needs CAP_BPF CAP_NET_ADMIN"), e);
        assertTrue(e.contains("setpriv --reuid=$(id -u) --regid=$(id -g) --init-groups --inh-caps=+bpf,+net_admin "
                + "--ambient-caps=+bpf,+net_admin ./panbpf fizzbuzz"), e);
        assertTrue(e.contains("AmbientCapabilities=CAP_BPF CAP_NET_ADMIN"), e);
        assertFalse(e.contains("setcap"), e);
    }

    @Test
    void oneMissingCapabilityIsNamedAloneAndTheAdviceStillListsTheWholeSet() {
        String e = report("compare", withCapabilities(Capability.BPF, Capability.NET_ADMIN));
        assertTrue(e.contains("the process lacks CAP_PERFMON"), e);
        assertFalse(e.contains("lacks CAP_BPF") || e.contains("lacks CAP_NET_ADMIN"), e);
        assertTrue(e.contains("--ambient-caps=+bpf,+perfmon,+net_admin ./panbpf compare"), e);
    }

    @Test
    void capBpfPerfmonAndNetAdminWithoutRootAreEnoughForEverythingButTheNamespaceAndTracefs() {
        assertEquals(List.of(Prerequisite.NETNS, Prerequisite.TRACEFS_READABLE), missing(new FullHost() {
            @Override public long effectiveCapabilities() {
                return 1L << Capability.BPF.number() | 1L << Capability.PERFMON.number()
                        | 1L << Capability.NET_ADMIN.number();
            }
            @Override public Access access(String path) {
                return path.startsWith("/sys/kernel/tracing/") ? Access.UNREADABLE : Access.READABLE;
            }
        }));
    }

    @Test
    void capSysAdminStandsForCapBpfAndCapPerfmonButNotForCapNetAdmin() {
        assertEquals(List.of(Prerequisite.NET_ADMIN, Prerequisite.NETNS), missing(withCapabilities(Capability.SYS_ADMIN)));
    }

    @Test
    void theRingBufferProbeIsSkippedWithoutCapBpfSoOneCauseIsReportedOnce() {
        Host h = new FullHost() {
            @Override public long effectiveCapabilities() { return 1L << Capability.PERFMON.number(); }
            @Override public String ringBufferProblem() { throw new AssertionError("must not probe"); }
        };
        assertEquals(List.of(Prerequisite.BPF, Prerequisite.NET_ADMIN, Prerequisite.NETNS), missing(h));
    }

    @Test
    void eachCommandNeedsTheCapabilitiesItsProgramsAndToolsNeed() {
        Map<String, Set<Capability>> expected = Map.of(
                "compare", EnumSet.of(Capability.BPF, Capability.PERFMON, Capability.NET_ADMIN),
                "xdp-events", EnumSet.of(Capability.NET_ADMIN, Capability.SYS_ADMIN, Capability.DAC_OVERRIDE),
                "deletions", EnumSet.of(Capability.BPF, Capability.PERFMON, Capability.DAC_READ_SEARCH),
                "fizzbuzz", EnumSet.of(Capability.BPF, Capability.NET_ADMIN),
                "printk", EnumSet.of(Capability.BPF, Capability.PERFMON, Capability.NET_ADMIN,
                        Capability.DAC_READ_SEARCH),
                "check", EnumSet.noneOf(Capability.class));
        for (Command c : new Main().commands()) {
            if (expected.containsKey(c.name())) {
                assertEquals(expected.get(c.name()),
                        Prerequisites.capabilities(c.needs(Args.parse(List.of(), c.options()))), c.name());
            }
        }
        Command xdp = new Main().commands().stream().filter(c -> c.name().equals("xdp-events")).findFirst()
                .orElseThrow();
        assertEquals(EnumSet.of(Capability.BPF, Capability.PERFMON, Capability.NET_ADMIN), Prerequisites.capabilities(
                xdp.needs(Args.parse(List.of("--interface", "lo"), xdp.options()))), "xdp-events on an interface");
    }

    @Test
    void anOldKernelIsToldWhichVersionRingBuffersNeed() {
        Host h = new FullHost() {
            @Override public String kernelRelease() { return "5.4.0"; }
            @Override public String ringBufferProblem() { return "bpf(BPF_MAP_CREATE) failed: EINVAL"; }
        };
        String d = check(h).get(0).describe();
        assertTrue(d.contains("Linux 5.4.0") && d.contains("5.8 or newer"), d);
    }

    @Test
    void missingIpAndLibbpfAndOldJavaEachNameTheirFix() {
        Host h = new FullHost() {
            @Override public int javaFeature() { return 21; }
            @Override public boolean onPath(String command) { return false; }
            @Override public boolean libbpfLoads() { return false; }
        };
        String all = String.join("\n", check(h).stream().map(Prerequisites.Missing::describe).toList());
        assertTrue(all.contains("this is Java 21") && all.contains("JDK 22+"), all);
        assertTrue(all.contains("apt-get install iproute2"), all);
        assertTrue(all.contains("apt-get install libbpf1"), all);
    }

    @Test
    void aCommandDoesNotRunWhenSomethingItNeedsIsMissing() {
        Host h = new FullHost() {
            @Override public String mountType(String dir) { return null; }
        };
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int status = new Main().run(List.of("deletions", "--seconds", "1"),
                new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8),
                h, StopSignal.manual());
        assertEquals(Main.MISSING, status);
        assertTrue(err.toString(StandardCharsets.UTF_8).contains("fix:   sudo mount -t tracefs"), err.toString());
        assertFalse(out.toString(StandardCharsets.UTF_8).contains("unlinkat"));
    }
}
