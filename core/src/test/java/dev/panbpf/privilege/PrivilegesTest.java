package dev.panbpf.privilege;

import dev.panbpf.testing.Kernel;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The library run as user nobody (setpriv), with no capabilities, then with exactly the ambient capabilities the
 * README names: CAP_BPF + CAP_PERFMON for ring buffers, perf buffers and tracepoints, + CAP_NET_ADMIN for XDP.
 * What is refused must say EPERM and which capability to grant.
 */
class PrivilegesTest {
    private static final List<String> STEPS = List.of("ringbuf", "perf", "tracepoint", "attach", "xdp", "unreadable");
    private static Path classpath;
    /** A BPF object only its owner (root) may read. */
    private static Path unreadable;

    @BeforeAll
    static void copyClasspathWhereNobodyCanReadIt() throws IOException {
        Kernel.requireRoot();
        Kernel.require(Files.isExecutable(Path.of("/usr/bin/setpriv")), "setpriv (util-linux) to drop privileges");
        // The build's jars live under /root, which user nobody cannot enter: copy them somewhere it can.
        classpath = Files.createTempDirectory("panbpf-priv");
        Files.setPosixFilePermissions(classpath, PosixFilePermissions.fromString("rwxr-xr-x"));
        int i = 0;
        for (String entry : System.getProperty("java.class.path").split(File.pathSeparator)) {
            Path from = Path.of(entry);
            if (!Files.exists(from)) {
                continue;
            }
            Path to = classpath.resolve((i++) + "-" + from.getFileName());
            if (Files.isDirectory(from)) {
                try (Stream<Path> all = Files.walk(from)) {
                    for (Path p : (Iterable<Path>) all::iterator) {
                        Path q = to.resolve(from.relativize(p).toString());
                        if (Files.isDirectory(p)) {
                            Files.createDirectories(q);
                        } else {
                            Files.copy(p, q, StandardCopyOption.REPLACE_EXISTING);
                        }
                    }
                }
            } else {
                Files.copy(from, to);
            }
        }
        unreadable = classpath.resolve("private.bpf.o");
        Files.write(unreadable, new byte[64]);
        try (Stream<Path> all = Files.walk(classpath)) {
            for (Path p : (Iterable<Path>) all::iterator) {
                Files.setPosixFilePermissions(p, PosixFilePermissions.fromString(
                        Files.isDirectory(p) ? "rwxr-xr-x" : "rw-r--r--"));
            }
        }
    }

    @Test
    void withoutCapabilitiesEveryStepIsRefusedWithEpermAndTheCapabilityToGrant() throws Exception {
        Map<String, String> r = probe(null);
        for (String step : List.of("ringbuf", "perf", "tracepoint", "xdp")) {
            String line = r.get(step);
            assertTrue(line.startsWith("FAIL dev.panbpf.BpfException") && line.contains("EPERM")
                    && line.contains("CAP_BPF"), step + ": " + line);
        }
    }

    @Test
    void anObjectFileThisUserCannotReadIsReportedAsPermissionDenied() throws Exception {
        Files.setPosixFilePermissions(unreadable, PosixFilePermissions.fromString("rw-------"));
        String line = probe("bpf,perfmon").get("unreadable");
        assertTrue(line.startsWith("FAIL dev.panbpf.BpfException") && line.contains("permission denied (EACCES)")
                && line.contains("private.bpf.o"), line);
    }

    @Test
    void capBpfAndPerfmonRunRingsPerfBuffersAndTracepoints() throws Exception {
        Map<String, String> r = probe("bpf,perfmon");
        assertEquals("OK", r.get("ringbuf"));
        assertEquals("OK", r.get("perf"));
        assertEquals("OK", r.get("tracepoint"));
        // tracefs is root's with mode 700: without CAP_DAC_READ_SEARCH attaching a tracepoint fails, and says why.
        String attach = r.get("attach");
        assertTrue(attach.startsWith("FAIL dev.panbpf.BpfException") && attach.contains("cannot read it")
                && attach.contains("/sys/kernel/tracing") && !attach.contains("not mounted"), attach);
        String xdp = r.get("xdp");
        assertTrue(xdp.startsWith("FAIL") && xdp.contains("EPERM") && xdp.contains("CAP_NET_ADMIN")
                && !xdp.contains("verifier rejected"), "XDP without CAP_NET_ADMIN: " + xdp);
    }

    @Test
    void capDacReadSearchLetsTracepointsAttachThroughAMode700Tracefs() throws Exception {
        Map<String, String> r = probe("bpf,perfmon,dac_read_search");
        assertEquals("OK", r.get("attach"), "the capability the guide names for tracepoints");
    }

    @Test
    void capNetAdminAddsXdp() throws Exception {
        Map<String, String> r = probe("bpf,perfmon,net_admin");
        assertEquals("OK", r.get("xdp"));
        assertEquals("OK", r.get("ringbuf"));
    }

    /** Runs the probe as nobody with {@code caps} (comma-separated, or null for none) as ambient capabilities. */
    private static Map<String, String> probe(String caps) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"));
        if (caps != null) {
            String plus = "+" + caps.replace(",", ",+");
            cmd.add("--inh-caps=" + plus);
            cmd.add("--ambient-caps=" + plus);
        }
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.add("--enable-native-access=ALL-UNNAMED");
        cmd.add("-Dorg.slf4j.simpleLogger.defaultLogLevel=off");
        cmd.add("-cp");
        try (Stream<Path> entries = Files.list(classpath)) {
            cmd.add(String.join(File.pathSeparator, entries.sorted().map(Path::toString).toList()));
        }
        cmd.add(PrivilegeProbe.class.getName());
        cmd.add(unreadable.toString());
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).directory(classpath.toFile()).start();
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "the probe hung");
        String out = new String(p.getInputStream().readAllBytes());
        Map<String, String> result = new HashMap<>();
        for (String line : out.split("\n")) {
            int colon = line.indexOf(": ");
            if (colon > 0 && STEPS.contains(line.substring(0, colon))) {
                result.put(line.substring(0, colon), line.substring(colon + 2));
            }
        }
        assertEquals(STEPS.size(), result.size(), "the probe (caps " + caps + ") printed:\n" + out);
        return result;
    }
}
