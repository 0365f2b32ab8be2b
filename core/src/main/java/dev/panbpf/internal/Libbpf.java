package dev.panbpf.internal;

import dev.panbpf.BpfException;
import dev.panbpf.bindings.libbpf_h;

import java.lang.foreign.MemorySegment;

/**
 * Libbpf checks, once per JVM, that the libbpf.so.1 found at run time can serve panbpf: present, version 1.0 or
 * newer (the bindings call the 1.x API and rely on its NULL-and-errno error convention), and with its log routed
 * to SLF4J. Every entry point into libbpf calls {@link #require()} first.
 */
public final class Libbpf {
    private Libbpf() { }

    /** The oldest libbpf major version panbpf accepts. */
    public static final int MIN_MAJOR = 1;

    private static final class Check {
        static final RuntimeException FAILURE = check();
    }

    private static RuntimeException check() {
        int major;
        int minor;
        try {
            major = libbpf_h.libbpf_major_version();
            minor = libbpf_h.libbpf_minor_version();
        } catch (LinkageError | IllegalArgumentException e) {
            // Class initialisation of the bindings fails when the library or the version symbols are missing.
            return new BpfException("libbpf.so.1 could not be loaded or is older than 0.6 (" + e + "); install "
                    + "libbpf 1.0 or newer (Debian/Ubuntu: apt-get install libbpf1)", e);
        }
        if (major < MIN_MAJOR) {
            return new BpfException("libbpf " + major + "." + minor + " found, panbpf needs " + MIN_MAJOR
                    + ".0 or newer: its API and error conventions changed in 1.0; install libbpf1");
        }
        LibbpfLog.install();
        return null;
    }

    /** Throws a {@link BpfException} saying what to install when libbpf cannot be used. */
    public static void require() {
        RuntimeException failure = Check.FAILURE;
        if (failure != null) {
            throw failure;
        }
    }

    /** The runtime libbpf version, such as "v1.1". */
    public static String version() {
        require();
        return string(libbpf_h.libbpf_version_string());
    }

    /** A NUL-terminated C string returned by libbpf (never freed: libbpf owns it); "" for NULL. */
    public static String string(MemorySegment s) {
        return s.address() == 0 ? "" : s.reinterpret(Integer.MAX_VALUE).getString(0);
    }

    /** libbpf's own text for an error number, which also covers its private codes 4000 and up. */
    public static String strerror(int err) {
        try (var a = java.lang.foreign.Arena.ofConfined()) {
            MemorySegment buf = a.allocate(256);
            libbpf_h.libbpf_strerror(err, buf, buf.byteSize());
            return buf.getString(0);
        }
    }
}
