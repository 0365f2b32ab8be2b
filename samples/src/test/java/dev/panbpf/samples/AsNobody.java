package dev.panbpf.samples;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * AsNobody runs programs as user nobody through setpriv, with exactly the ambient capabilities a test names, from a
 * copy of this module's class path that nobody can read (the build's own files may live under /root, which nobody
 * cannot enter). A run may first change its own mount namespace (unshare), to show a machine without tracefs or
 * BTF without touching the machine's real mounts.
 */
final class AsNobody implements AutoCloseable {
    /** Result is how a run ended: its exit status and its output, stdout and stderr together. */
    record Result(int status, String output) { }

    private final Path root;
    private final List<Path> classPath = new ArrayList<>();

    private AsNobody(Path root) {
        this.root = root;
    }

    /**
     * Copies the module path this test runs on, and the test classes, into {@code lib/} of a new directory that
     * every user may read.
     */
    static AsNobody prepare() throws IOException {
        AsNobody n = new AsNobody(Files.createTempDirectory("panbpf-nobody"));
        Path lib = Files.createDirectories(n.root.resolve("lib"));
        List<String> entries = new ArrayList<>(List.of(System.getProperty("jdk.module.path", "")
                .split(File.pathSeparator)));
        entries.add(Path.of("target", "test-classes").toAbsolutePath().toString());
        int i = 0;
        for (String entry : entries) {
            Path from = Path.of(entry);
            if (entry.isEmpty() || !Files.exists(from)) {
                continue;
            }
            Path to = lib.resolve((i++) + "-" + from.getFileName());
            copy(from, to);
            n.classPath.add(to);
        }
        n.openToEveryone(n.root);
        return n;
    }

    /** The directory the copies live in; its {@code lib/} holds the class path. */
    Path root() {
        return root;
    }

    /** The copied class path entries, in order. */
    List<Path> classPath() {
        return classPath;
    }

    /** The command line that runs {@code mainClass} from the copies with native access, as the CLI jar does. */
    List<String> java(String mainClass, List<String> args) {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED", "-cp",
                String.join(File.pathSeparator, classPath.stream().map(Path::toString).toList()), mainClass));
        cmd.addAll(args);
        return cmd;
    }

    /** Runs {@code command} as nobody holding {@code caps} as ambient capabilities (none when empty). */
    Result run(Set<Capability> caps, List<String> command) throws IOException, InterruptedException {
        return run(caps, List.of(), command);
    }

    /**
     * Runs {@code command} as nobody holding {@code caps}, in a private mount namespace where the shell commands
     * {@code mountSetup} ran first as root (no namespace when they are empty).
     */
    Result run(Set<Capability> caps, List<String> mountSetup, List<String> command)
            throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>();
        if (!mountSetup.isEmpty()) {
            cmd.addAll(List.of("unshare", "--mount", "--propagation", "private", "sh", "-c",
                    String.join(" && ", mountSetup) + " && exec \"$@\"", "sh"));
        }
        cmd.addAll(List.of("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"));
        if (!caps.isEmpty()) {
            String list = Capability.setprivList(caps);
            cmd.add("--inh-caps=" + list);
            cmd.add("--ambient-caps=" + list);
        }
        cmd.addAll(command);
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).directory(root.toFile()).start();
        p.getOutputStream().close();
        byte[] out = p.getInputStream().readAllBytes(); // ends when the process (and what it started) closes it
        if (!p.waitFor(120, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("hung: " + cmd);
        }
        return new Result(p.exitValue(), new String(out, StandardCharsets.UTF_8));
    }

    /** Makes everything under {@code dir} readable (and its directories searchable) by every user. */
    void openToEveryone(Path dir) throws IOException {
        try (Stream<Path> all = Files.walk(dir)) {
            for (Path p : (Iterable<Path>) all::iterator) {
                boolean x = Files.isDirectory(p) || Files.isExecutable(p);
                Files.setPosixFilePermissions(p, PosixFilePermissions.fromString(x ? "rwxr-xr-x" : "rw-r--r--"));
            }
        }
    }

    private static void copy(Path from, Path to) throws IOException {
        if (!Files.isDirectory(from)) {
            Files.copy(from, to);
            return;
        }
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
    }

    /** Deletes the copies. */
    @Override
    public void close() throws IOException {
        try (Stream<Path> all = Files.walk(root)) {
            for (Path p : all.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }
}
