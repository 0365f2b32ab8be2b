package dev.panbpf.samples;

import dev.panbpf.BpfException;
import dev.panbpf.BpfMap;
import dev.panbpf.BpfObject;
import dev.panbpf.MapType;

import java.io.File;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermissions;

/**
 * Host answers the questions the prerequisite checks ask about this machine. Each answer is one small method so a
 * test can override it and see what the user would be told.
 */
public class Host {
    /** Whether a file opens for this process: it does, it is refused, or it is not there. */
    public enum Access {
        /** The file opens for reading. */
        READABLE,
        /** The file, or a directory on the way to it, refuses this process (EACCES). */
        UNREADABLE,
        /** The file does not exist. */
        MISSING
    }

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
    public final boolean has(Capability cap) {
        return (effectiveCapabilities() & (1L << cap.number())) != 0;
    }

    /** The kernel release, as uname -r prints it. */
    public String kernelRelease() {
        return System.getProperty("os.version");
    }

    /**
     * Whether this process can read {@code path}, found by opening it: access(2) would answer for the real user
     * without the capabilities, and a stat under a directory the process may not search fails as if the file were
     * missing, which is how a mode-700 tracefs used to look absent.
     */
    @SuppressWarnings("try") // the file is opened only to see that it can be
    public Access access(String path) {
        try (FileChannel ignored = FileChannel.open(Path.of(path), StandardOpenOption.READ)) {
            return Access.READABLE;
        } catch (NoSuchFileException e) {
            return Access.MISSING;
        } catch (IOException e) { // AccessDeniedException, mostly
            return Access.UNREADABLE;
        }
    }

    /** The type of the file system mounted at {@code dir} (the last one, if stacked), or null when none is. */
    public String mountType(String dir) {
        String type = null;
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/mounts"))) {
                String[] f = line.split(" ");
                if (f.length > 2 && f[1].equals(dir)) {
                    type = f[2];
                }
            }
        } catch (IOException e) {
            return null;
        }
        return type;
    }

    /** The mode and owners of {@code path}, such as {@code rwx------ root:root}, or null when it cannot be read. */
    public String modeOf(String path) {
        try {
            PosixFileAttributes a = Files.readAttributes(Path.of(path), PosixFileAttributes.class);
            return PosixFilePermissions.toString(a.permissions()) + " " + a.owner().getName() + ":"
                    + a.group().getName();
        } catch (IOException | UnsupportedOperationException e) {
            return null;
        }
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
