package dev.panbpf.maven;

import dev.panbpf.codegen.BpfCompiler;
import dev.panbpf.codegen.Generator;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.function.Consumer;
import java.util.stream.Stream;

/**
 * BpfBuild is what the plugin's generate goal does, without Maven: for each {@code *.bpf.c} of the source
 * directory, compile it with clang into the object directory (under the package's path, beside the skeleton
 * that opens it), then generate the Java. A stamp per source records the hash of everything that went in
 * (the C files and headers of the source directory, panbpf.bpf.h, the flags, the package), so an unchanged
 * input recompiles nothing.
 */
public final class BpfBuild {
    /**
     * Where the build writes, what it reads, and how it compiles.
     *
     * @param sourceDirectory the directory holding the {@code *.bpf.c} files and their headers
     * @param objectDirectory the resource root the compiled objects go under
     * @param javaDirectory the source root the generated Java goes under
     * @param workDirectory where the stamps and the written panbpf.bpf.h are kept
     * @param packageName the package of the generated Java and of the objects ("" for none)
     * @param clang the clang to run: a name on the PATH or a path
     * @param extraFlags flags added to every clang command
     * @param vmlinuxBtf the BTF file to write {@code vmlinux.h} from (on the include path), or null for none
     * @param bpftool the bpftool that writes {@code vmlinux.h}: a name on the PATH or a path
     */
    public record Settings(Path sourceDirectory, Path objectDirectory, Path javaDirectory, Path workDirectory,
                           String packageName, String clang, List<String> extraFlags, Path vmlinuxBtf,
                           String bpftool) {
        /**
         * Settings without a {@code vmlinux.h}.
         *
         * @param sourceDirectory the directory holding the {@code *.bpf.c} files and their headers
         * @param objectDirectory the resource root the compiled objects go under
         * @param javaDirectory the source root the generated Java goes under
         * @param workDirectory where the stamps and the written panbpf.bpf.h are kept
         * @param packageName the package of the generated Java and of the objects ("" for none)
         * @param clang the clang to run: a name on the PATH or a path
         * @param extraFlags flags added to every clang command
         */
        public Settings(Path sourceDirectory, Path objectDirectory, Path javaDirectory, Path workDirectory,
                        String packageName, String clang, List<String> extraFlags) {
            this(sourceDirectory, objectDirectory, javaDirectory, workDirectory, packageName, clang, extraFlags,
                    null, "bpftool");
        }
    }

    private final Settings s;
    private final Consumer<String> log;

    /**
     * A build with {@code settings} that reports its progress to {@code log}.
     *
     * @param settings the directories, package and compiler to use
     * @param log receives one line per step, such as the Maven log's info
     */
    public BpfBuild(Settings settings, Consumer<String> log) {
        this.s = settings;
        this.log = log;
    }

    /**
     * Runs the build.
     *
     * @return the sources that were compiled (empty when everything was up to date)
     */
    public List<Path> run() {
        List<Path> sources = sources();
        List<Path> built = new ArrayList<>();
        if (sources.isEmpty()) {
            log.accept("panbpf: no *.bpf.c in " + s.sourceDirectory() + "; nothing to compile");
            return built;
        }
        Path include = BpfCompiler.writeHeader(s.workDirectory().resolve("include"));
        String vmlinux = s.vmlinuxBtf() == null ? VmlinuxHeader.remove(include)
                : VmlinuxHeader.write(s.bpftool(), s.vmlinuxBtf(), include);
        BpfCompiler compiler = BpfCompiler.of(s.clang(), s.extraFlags(), List.of(include));
        Path packageDir = s.packageName().isEmpty() ? Path.of("") : Path.of(s.packageName().replace('.', '/'));
        String shared = sharedInputs() + "\0vmlinux.h of BTF " + vmlinux;
        for (Path c : sources) {
            String file = c.getFileName().toString();
            String name = file.substring(0, file.length() - ".c".length());
            Path object = s.objectDirectory().resolve(packageDir).resolve(name + ".o");
            Path stamp = s.workDirectory().resolve("stamps").resolve(name + ".sha256");
            String inputs = hash(read(c) + "\0" + shared);
            if (Files.exists(object) && Files.exists(stamp) && read(stamp).equals(inputs)) {
                continue;
            }
            log.accept("panbpf: compiling " + file);
            compiler.compile(c, object);
            Generator.Result r = Generator.of(object).packageName(s.packageName()).generate();
            r.writeTo(s.javaDirectory());
            r.warnings().forEach(w -> log.accept("panbpf: warning: " + w));
            write(stamp, inputs);
            built.add(c);
        }
        return built;
    }

    private List<Path> sources() {
        if (!Files.isDirectory(s.sourceDirectory())) {
            return List.of();
        }
        try (Stream<Path> files = Files.list(s.sourceDirectory())) {
            return files.filter(p -> p.getFileName().toString().endsWith(".bpf.c")).sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + s.sourceDirectory(), e);
        }
    }

    /** What every object depends on: the headers beside the sources, panbpf.bpf.h, the settings. */
    private String sharedInputs() {
        StringBuilder b = new StringBuilder(BpfCompiler.header());
        b.append('\0').append(s.packageName()).append('\0').append(s.clang()).append('\0').append(s.extraFlags());
        try (Stream<Path> files = Files.walk(s.sourceDirectory())) {
            for (Path h : files.filter(p -> p.toString().endsWith(".h")).sorted().toList()) {
                b.append('\0').append(s.sourceDirectory().relativize(h)).append('\0').append(read(h));
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + s.sourceDirectory(), e);
        }
        return b.toString();
    }

    private static String read(Path p) {
        try {
            return Files.readString(p, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + p, e);
        }
    }

    private static void write(Path p, String text) {
        try {
            Files.createDirectories(p.getParent());
            Files.writeString(p, text);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + p, e);
        }
    }

    private static String hash(String text) {
        return sha256(text.getBytes(StandardCharsets.UTF_8));
    }

    /** The SHA-256 of {@code bytes} in hex: the build's stamps and vmlinux.h's BTF stamp. */
    static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JDK has no SHA-256", e);
        }
    }
}
