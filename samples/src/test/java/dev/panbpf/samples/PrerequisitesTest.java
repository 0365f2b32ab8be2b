package dev.panbpf.samples;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.EnumSet;
import java.util.List;

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
        @Override public boolean exists(String path) { return true; }
        @Override public boolean onPath(String command) { return true; }
        @Override public boolean libbpfLoads() { return true; }
        @Override public String ringBufferProblem() { return null; }
    }

    private static List<Prerequisites.Missing> check(Host h) {
        return Prerequisites.check(EnumSet.allOf(Prerequisite.class), h);
    }

    @Test
    void aCompleteMachineHasNothingMissing() {
        assertEquals(List.of(), check(new FullHost()));
    }

    @Test
    void missingTracefsIsReportedWithTheMountCommand() {
        Host h = new FullHost() {
            @Override public boolean exists(String path) { return !path.startsWith("/sys/kernel/tracing"); }
        };
        List<Prerequisites.Missing> m = check(h);
        assertEquals(1, m.size());
        assertEquals(Prerequisite.TRACEFS, m.get(0).prerequisite());
        assertTrue(m.get(0).describe().contains("mount -t tracefs nodev /sys/kernel/tracing"), m.get(0).describe());
    }

    @Test
    void aProcessWithoutBpfCapabilitiesIsToldToRunAsRootOrSetcap() {
        Host h = new FullHost() {
            @Override public long effectiveCapabilities() { return 1L << CAP_NET_ADMIN; }
        };
        List<Prerequisites.Missing> m = check(h);
        assertEquals(Prerequisite.BPF_PRIVILEGES, m.get(0).prerequisite());
        assertTrue(m.get(0).describe().contains("setcap cap_bpf,cap_perfmon"), m.get(0).describe());
    }

    @Test
    void capBpfWithCapPerfmonIsEnoughWithoutRoot() {
        Host h = new FullHost() {
            @Override public long effectiveCapabilities() {
                return 1L << CAP_BPF | 1L << CAP_PERFMON | 1L << CAP_NET_ADMIN;
            }
        };
        assertEquals(List.of(), check(h));
    }

    @Test
    void theRingBufferProbeIsSkippedWhenPrivilegesAreMissingSoOneCauseIsReportedOnce() {
        Host h = new FullHost() {
            @Override public long effectiveCapabilities() { return 0; }
            @Override public String ringBufferProblem() { throw new AssertionError("must not probe"); }
        };
        assertEquals(List.of(Prerequisite.BPF_PRIVILEGES, Prerequisite.NET_ADMIN),
                check(h).stream().map(Prerequisites.Missing::prerequisite).toList());
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
    void missingKernelBtfIsOnlyAWarning() {
        Host h = new FullHost() {
            @Override public boolean exists(String path) { return !path.equals("/sys/kernel/btf/vmlinux"); }
        };
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        boolean go = Prerequisites.report("x", check(h), new PrintStream(err, true, StandardCharsets.UTF_8));
        assertTrue(go);
        assertTrue(err.toString(StandardCharsets.UTF_8).contains("CONFIG_DEBUG_INFO_BTF"));
    }

    @Test
    void aCommandDoesNotRunWhenSomethingItNeedsIsMissing() {
        Host h = new FullHost() {
            @Override public boolean exists(String path) { return !path.startsWith("/sys/kernel/tracing"); }
        };
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int status = new Main().run(List.of("deletions", "--seconds", "1"),
                new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8),
                h, StopSignal.manual());
        assertEquals(Main.MISSING, status);
        assertTrue(err.toString(StandardCharsets.UTF_8).contains("fix:   mount -t tracefs"), err.toString());
        assertFalse(out.toString(StandardCharsets.UTF_8).contains("unlinkat"));
    }
}
