package dev.panbpf.samples;

import dev.panbpf.BpfException;
import dev.panbpf.BpfMap;
import dev.panbpf.BpfObject;
import dev.panbpf.MapType;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Host answers the questions the prerequisite checks ask about this machine. Each answer is one small method so a
 * test can override it and see what the user would be told.
 */
public class Host {
    /** The Linux capability numbers the checks look at (include/uapi/linux/capability.h). */
    public static final int CAP_NET_ADMIN = 12;
    /** CAP_SYS_ADMIN, which also allows everything bpf(2) and perf_event_open(2) do. */
    public static final int CAP_SYS_ADMIN = 21;
    /** CAP_PERFMON: perf events and tracing programs. */
    public static final int CAP_PERFMON = 38;
    /** CAP_BPF: bpf(2) map and program commands. */
    public static final int CAP_BPF = 39;

    /** The running Java's feature release, such as 25. */
    public int javaFeature() {
        return Runtime.version().feature();
    }

    /**
     * Whether panbpf may call native functions without warnings or errors. The library makes the calls, so its
     * module is the one to ask: unnamed on the class path, {@code dev.panbpf} on the module path.
     */
    public boolean nativeAccessEnabled() {
        return BpfObject.class.getModule().isNativeAccessEnabled();
    }

    /** The effective capability set of this process (CapEff in /proc/self/status), or 0 if unreadable. */
    public long effectiveCapabilities() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("CapEff:")) {
                    return Long.parseUnsignedLong(line.substring(7).trim(), 16);
                }
            }
        } catch (IOException | NumberFormatException e) {
            return 0;
        }
        return 0;
    }

    /** Whether the process holds capability {@code cap}. */
    public final boolean has(int cap) {
        return (effectiveCapabilities() & (1L << cap)) != 0;
    }

    /** The kernel release, as uname -r prints it. */
    public String kernelRelease() {
        return System.getProperty("os.version");
    }

    /** Whether {@code path} exists. */
    public boolean exists(String path) {
        return Files.exists(Path.of(path));
    }

    /** Whether an executable {@code command} is on the PATH (or in /usr/sbin, /sbin, where root's tools live). */
    public boolean onPath(String command) {
        String path = System.getenv().getOrDefault("PATH", "") + File.pathSeparator + "/usr/sbin:/sbin";
        for (String dir : path.split(File.pathSeparator)) {
            if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, command))) {
                return true;
            }
        }
        return false;
    }

    /** Whether libbpf.so.1, which panbpf calls to load BPF objects, can be loaded. */
    public boolean libbpfLoads() {
        try {
            BpfObject.libbpfVersion();
            return true;
        } catch (BpfException e) {
            return false;
        }
    }

    /** Creates and closes a small BPF ring buffer; returns null when that works, else what went wrong. */
    @SuppressWarnings("try") // the map is created only to see that it can be
    public String ringBufferProblem() {
        try (BpfMap ignored = BpfMap.create(MapType.RINGBUF, 0, 0, 4096, 0, "panbpf_probe")) {
            return null;
        } catch (RuntimeException e) {
            return e.getMessage();
        }
    }
}
