package dev.panbpf;

import dev.panbpf.bindings.bpf_object_open_opts;
import dev.panbpf.bindings.libbpf_h;
import dev.panbpf.internal.ElfCheck;
import dev.panbpf.internal.Errno;
import dev.panbpf.internal.Libbpf;
import dev.panbpf.internal.LibbpfLog;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * ObjectOpening opens BPF objects for {@link BpfObject}'s factories: it checks that the file or bytes are a BPF ELF
 * object before libbpf sees them, and turns libbpf's failure into an exception that says what to do.
 */
final class ObjectOpening {
    private ObjectOpening() { }

    /** {@link BpfObject#open(Path)}. */
    static BpfObject file(Path file) {
        Libbpf.require();
        String what = "BPF object file " + file.toAbsolutePath();
        if (!Files.exists(file)) {
            throw new BpfException("no such file: " + file.toAbsolutePath() + " (a compiled BPF object was expected"
                    + "; build it with clang -O2 -g -target bpf -c prog.bpf.c -o prog.bpf.o)");
        }
        if (!Files.isRegularFile(file)) {
            throw new BpfException(what + " is not a regular file");
        }
        byte[] head = new byte[ElfCheck.HEADER_BYTES];
        int n;
        try (InputStream in = Files.newInputStream(file)) {
            n = in.readNBytes(head, 0, head.length);
        } catch (IOException e) {
            // Java's file exceptions carry only the path as their message: name the cause, as an errno would.
            String why = e instanceof java.nio.file.AccessDeniedException
                    ? "permission denied (EACCES); make it readable by this user (chmod a+r) or run as its owner"
                    : e.getClass().getSimpleName() + ": " + e.getMessage();
            throw new BpfException("cannot read " + what + ": " + why, e);
        }
        ElfCheck.check(head, n, what);
        Arena arena = Arena.ofShared();
        try {
            MemorySegment path = arena.allocateFrom(file.toString());
            return opened(arena, what, st -> libbpf_h.bpf_object__open_file(st, path, MemorySegment.NULL));
        } catch (RuntimeException | Error e) {
            arena.close();
            throw e;
        }
    }

    /** {@link BpfObject#open(byte[], String)}. */
    static BpfObject bytes(byte[] elf, String name) {
        Libbpf.require();
        int dot = name.indexOf('.');
        String objectName = dot < 0 ? name : name.substring(0, dot);
        if (objectName.isEmpty()) {
            throw new IllegalArgumentException("BPF object name '" + name + "' is empty before its first dot");
        }
        String what = "BPF object '" + objectName + "'";
        ElfCheck.check(elf, elf.length, what);
        Arena arena = Arena.ofShared();
        try {
            // libbpf reads the ELF from this buffer until load, so it lives as long as the object.
            MemorySegment buf = arena.allocate(elf.length, 8);
            buf.copyFrom(MemorySegment.ofArray(elf));
            MemorySegment opts = bpf_object_open_opts.allocate(arena);
            bpf_object_open_opts.sz(opts, bpf_object_open_opts.sizeof());
            bpf_object_open_opts.object_name(opts, arena.allocateFrom(objectName));
            return opened(arena, what, st -> libbpf_h.bpf_object__open_mem(st, buf, buf.byteSize(), opts));
        } catch (RuntimeException | Error e) {
            arena.close();
            throw e;
        }
    }

    /** {@link BpfObject#openResource(String)}. */
    static BpfObject resource(String resource) {
        String path = resource.startsWith("/") ? resource.substring(1) : resource;
        ClassLoader cl = Thread.currentThread().getContextClassLoader();
        InputStream in = cl == null ? null : cl.getResourceAsStream(path);
        if (in == null) {
            in = BpfObject.class.getClassLoader().getResourceAsStream(path);
        }
        return fromStream(in, path, "class path resource '" + path + "'");
    }

    /** {@link BpfObject#openResource(Class, String)}. */
    static BpfObject resource(Class<?> anchor, String resource) {
        return fromStream(anchor.getResourceAsStream(resource), resource,
                "resource '" + resource + "' of " + anchor.getName());
    }

    private static BpfObject fromStream(InputStream in, String path, String what) {
        if (in == null) {
            throw new BpfException("no " + what + "; is the jar holding it (e.g. panbpf-bpf-src) on the class path?");
        }
        byte[] bytes;
        try (in) {
            bytes = in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + what, e);
        }
        return bytes(bytes, path.substring(path.lastIndexOf('/') + 1));
    }

    private interface OpenCall {
        MemorySegment open(MemorySegment errnoState);
    }

    private static BpfObject opened(Arena arena, String what, OpenCall call) {
        MemorySegment obj;
        try (LibbpfLog.Capture c = LibbpfLog.capture()) {
            MemorySegment st = Errno.state();
            obj = call.open(st);
            if (obj.address() == 0) {
                throw LibbpfFailure.open(what, Errno.of(st), c.messages());
            }
        }
        try {
            return new BpfObject(arena, obj);
        } catch (RuntimeException | Error e) {
            libbpf_h.bpf_object__close(obj);
            throw e;
        }
    }
}
