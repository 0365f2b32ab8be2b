package dev.panbpf.maven;

import dev.panbpf.codegen.CodegenException;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.concurrent.TimeUnit;

/**
 * VmlinuxHeader writes {@code vmlinux.h}, every type of a kernel's BTF as C, for CO-RE programs that
 * {@code #include "vmlinux.h"}: bpftool dumps it from a BTF file (the running kernel's by default). The header is
 * rewritten only when the BTF changed, and its hash is part of each object's build inputs, so a new kernel
 * recompiles the programs and an unchanged one recompiles nothing.
 */
final class VmlinuxHeader {
    /** The running kernel's BTF. */
    static final Path KERNEL_BTF = Path.of("/sys/kernel/btf/vmlinux");
    /** How long bpftool may take (it dumps a kernel's types in about a second); tests lower it. */
    static long TIMEOUT_SECONDS = 120;

    private VmlinuxHeader() { }

    /**
     * Makes {@code dir}/vmlinux.h the C of {@code btf}'s types, dumped with {@code bpftool}; returns the BTF's
     * SHA-256.
     */
    static String write(String bpftool, Path btf, Path dir) {
        if (!Files.isReadable(btf)) {
            throw new CodegenException("panbpf: no readable BTF at " + btf + " to write vmlinux.h from: "
                    + (btf.equals(KERNEL_BTF) ? "this kernel was built without CONFIG_DEBUG_INFO_BTF, or "
                    + "the build runs without permission to read it; " : "")
                    + "set <btfFile> to a BTF file of the target kernel, or turn <vmlinuxHeader> off");
        }
        String sha = sha256(btf);
        Path header = dir.resolve("vmlinux.h");
        Path stamp = dir.resolve("vmlinux.h.btf-sha256");
        try {
            if (Files.exists(header) && Files.exists(stamp) && Files.readString(stamp).equals(sha)) {
                return sha;
            }
            Files.createDirectories(dir);
            Path tmp = Files.createTempFile(dir, "vmlinux", ".h.tmp");
            try {
                dump(bpftool, btf, tmp);
                Files.move(tmp, header, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            } finally {
                Files.deleteIfExists(tmp);
            }
            Files.writeString(stamp, sha);
            return sha;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + header, e);
        }
    }

    /**
     * Removes a vmlinux.h an earlier build wrote into {@code dir}, so that a build with the option off does not
     * compile against a stale header; returns "" (no BTF went into the inputs).
     */
    static String remove(Path dir) {
        try {
            Files.deleteIfExists(dir.resolve("vmlinux.h"));
            Files.deleteIfExists(dir.resolve("vmlinux.h.btf-sha256"));
            return "";
        } catch (IOException e) {
            throw new UncheckedIOException("cannot remove the vmlinux.h in " + dir, e);
        }
    }

    private static void dump(String bpftool, Path btf, Path out) throws IOException {
        Process p;
        // stderr to a file, not a pipe: reading a pipe would block until bpftool exits, past the timeout below.
        Path errors = Files.createTempFile(out.getParent(), "bpftool", ".err");
        try {
            p = new ProcessBuilder(bpftool, "btf", "dump", "file", btf.toString(), "format", "c")
                    .redirectOutput(out.toFile()).redirectError(errors.toFile()).start();
        } catch (IOException e) {
            Files.deleteIfExists(errors);
            throw new CodegenException("panbpf: cannot run " + bpftool + " to write vmlinux.h (" + e.getMessage()
                    + "); install it (Debian/Ubuntu: apt-get install bpftool; Fedora: dnf install bpftool) or "
                    + "set <bpftool> to its path", e);
        }
        String err;
        try {
            if (!p.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new CodegenException("panbpf: " + bpftool + " did not finish dumping " + btf + " in "
                        + TIMEOUT_SECONDS + " s");
            }
            err = Files.readString(errors);
        } catch (InterruptedException e) {
            p.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new CodegenException("panbpf: interrupted while " + bpftool + " dumped " + btf, e);
        } finally {
            Files.deleteIfExists(errors);
        }
        if (p.exitValue() != 0) {
            throw new CodegenException("panbpf: " + bpftool + " btf dump file " + btf + " format c failed (exit "
                    + p.exitValue() + "): " + err.strip());
        }
    }

    private static String sha256(Path file) {
        try {
            return BpfBuild.sha256(Files.readAllBytes(file));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file, e);
        }
    }
}
