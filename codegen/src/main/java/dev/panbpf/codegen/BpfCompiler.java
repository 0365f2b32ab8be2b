package dev.panbpf.codegen;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.concurrent.TimeUnit;

/**
 * BpfCompiler runs clang on a BPF C file the way panbpf's own objects are built: {@code -O2 -g -target bpf}, the
 * build machine's architecture include directory (Debian keeps {@code asm/types.h} there), the matching
 * {@code __TARGET_ARCH_*} define for CO-RE macros, the directory of {@code panbpf.bpf.h}, and the source
 * directory mapped to "." so the object does not depend on where it was built.
 */
public final class BpfCompiler {
    private static final String HEADER = "panbpf.bpf.h";
    private static final Duration TIMEOUT = Duration.ofMinutes(5);

    private final String clang;
    private final List<String> extraFlags;
    private final List<Path> includes;
    private final Duration timeout;

    private BpfCompiler(String clang, List<String> extraFlags, List<Path> includes, Duration timeout) {
        this.clang = clang;
        this.extraFlags = extraFlags;
        this.includes = includes;
        this.timeout = timeout;
    }

    /**
     * A compiler running {@code clang} (a name on the PATH or a path) with {@code extraFlags} appended.
     *
     * @param clang the clang executable
     * @param extraFlags flags added after panbpf's own, such as {@code -DDEBUG}
     * @param includes directories passed with {@code -I}
     * @return the compiler
     */
    public static BpfCompiler of(String clang, List<String> extraFlags, List<Path> includes) {
        return new BpfCompiler(Objects.requireNonNull(clang, "clang"), List.copyOf(extraFlags), List.copyOf(includes),
                TIMEOUT);
    }

    /** This compiler with another limit on one clang run (5 minutes by default); for tests. */
    BpfCompiler withTimeout(Duration limit) {
        return new BpfCompiler(clang, extraFlags, includes, Objects.requireNonNull(limit, "limit"));
    }

    /**
     * The text of panbpf.bpf.h, the header with the BTF-retention macros.
     *
     * @return the header's source text
     */
    public static String header() {
        try (InputStream in = BpfCompiler.class.getResourceAsStream(HEADER)) {
            return new String(Objects.requireNonNull(in, HEADER).readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + HEADER, e);
        }
    }

    /**
     * Writes panbpf.bpf.h into {@code dir} (when its text differs) and returns the directory to include.
     *
     * @param dir the directory to write the header into, created if missing
     * @return {@code dir}, for an {@code -I} flag
     */
    public static Path writeHeader(Path dir) {
        try {
            Files.createDirectories(dir);
            Path h = dir.resolve(HEADER);
            String text = header();
            if (!Files.exists(h) || !Files.readString(h).equals(text)) {
                Files.writeString(h, text);
            }
            return dir;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + HEADER + " into " + dir, e);
        }
    }

    /**
     * The command that compiles {@code source} into {@code object}.
     *
     * @param source the BPF C file
     * @param object the object file to write
     * @return the clang command line, program first
     */
    public List<String> command(Path source, Path object) {
        String machine = System.getProperty("os.arch").toLowerCase(Locale.ROOT);
        String triplet = machine.equals("amd64") || machine.equals("x86_64") ? "x86_64"
                : machine.equals("aarch64") ? "aarch64" : machine;
        String target = switch (triplet) {
            case "x86_64" -> "x86";
            case "aarch64" -> "arm64";
            default -> triplet;
        };
        List<String> cmd = new ArrayList<>(List.of(clang, "-O2", "-g", "-target", "bpf", "-Wall",
                "-D__TARGET_ARCH_" + target, "-I/usr/include/" + triplet + "-linux-gnu"));
        for (Path i : includes) {
            cmd.add("-I" + i);
        }
        Path dir = source.toAbsolutePath().getParent();
        cmd.add("-ffile-prefix-map=" + dir + "=.");
        cmd.addAll(extraFlags);
        cmd.addAll(List.of("-c", source.toString(), "-o", object.toString()));
        return cmd;
    }

    /**
     * Compiles {@code source} into {@code object}.
     *
     * @param source the BPF C file
     * @param object the object file to write; its directory is created
     * @throws CodegenException when clang cannot be run (with the command that installs it) or the compilation
     *         fails (with clang's messages), or clang runs over its time limit (5 minutes) and is killed
     */
    public void compile(Path source, Path object) {
        List<String> cmd = command(source, object);
        Path log;
        Process p;
        try {
            Files.createDirectories(object.toAbsolutePath().getParent());
            // clang's messages go to a file, not a pipe we would have to drain before the bounded wait below.
            log = Files.createTempFile("panbpf-clang", ".log");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot prepare compiling " + source, e);
        }
        try {
            try {
                p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
            } catch (IOException e) {
                throw new CodegenException("cannot run clang ('" + clang + "'): " + e.getMessage() + ". Install it "
                        + "(Debian/Ubuntu: apt-get install clang llvm libbpf-dev) or set the clang path", e);
            }
            try {
                if (!p.waitFor(timeout.toNanos(), TimeUnit.NANOSECONDS)) {
                    kill(p);
                    throw new CodegenException("clang ('" + clang + "') did not finish compiling " + source + " in "
                            + spell(timeout) + "; it was killed. command: " + String.join(" ", cmd));
                }
            } catch (InterruptedException e) {
                kill(p);
                Thread.currentThread().interrupt();
                throw new CodegenException("interrupted while compiling " + source + "; clang was killed", e);
            }
            if (p.exitValue() != 0) {
                throw new CodegenException("clang failed on " + source + " (exit " + p.exitValue() + "):\n"
                        + read(log).strip() + "\ncommand: " + String.join(" ", cmd));
            }
        } finally {
            try {
                Files.deleteIfExists(log);
            } catch (IOException e) {
                // a temporary file left behind is not worth failing the build for
            }
        }
    }

    /** Kills {@code p} and whatever it started (a driver's subprocesses), and waits briefly for it to go. */
    private static void kill(Process p) {
        p.descendants().forEach(ProcessHandle::destroyForcibly);
        p.destroyForcibly();
        try {
            p.waitFor(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static String read(Path log) {
        try {
            return new String(Files.readAllBytes(log), java.nio.charset.StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read clang's output", e);
        }
    }

    private static String spell(Duration d) {
        return d.toSeconds() >= 60 && d.toSecondsPart() == 0 ? d.toMinutes() + " min"
                : d.toMillis() >= 1000 && d.toMillisPart() == 0 ? d.toSeconds() + " s" : d.toMillis() + " ms";
    }
}
