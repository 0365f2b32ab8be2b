package dev.panbpf.samples;

import java.util.function.Function;

/**
 * Prerequisite is one thing a command needs from this machine: how to tell it is missing, and the fix to print.
 * {@link #check} returns null when all is well, or what was found instead.
 */
public enum Prerequisite {
    /** The FFM API is final from Java 22. */
    JAVA("Java 22 or newer", true,
            h -> h.javaFeature() >= 22 ? null : "this is Java " + h.javaFeature(),
            "install a JDK 22+ (e.g. apt-get install openjdk-25-jdk) and point JAVA_HOME at it; ./panbpf picks one"),
    /** Calls into libc and libbpf are restricted methods. */
    NATIVE_ACCESS("native access for the FFM API", true,
            h -> h.nativeAccessEnabled() ? null : "native access is not enabled",
            "run java --enable-native-access=ALL-UNNAMED -jar samples/target/panbpf-cli.jar (./panbpf does), or "
                    + "--enable-native-access=dev.panbpf,dev.panbpf.bindings on the module path"),
    /** bpf(2) and perf_event_open(2). */
    BPF_PRIVILEGES("root, or CAP_BPF + CAP_PERFMON", true,
            h -> h.has(Host.CAP_SYS_ADMIN) || (h.has(Host.CAP_BPF) && h.has(Host.CAP_PERFMON)) ? null
                    : "the process has neither CAP_SYS_ADMIN nor CAP_BPF + CAP_PERFMON",
            "run as root (sudo ./panbpf ...), or: setcap cap_bpf,cap_perfmon,cap_net_admin+ep $JAVA_HOME/bin/java"),
    /** XDP attachment and network namespaces. */
    NET_ADMIN("CAP_NET_ADMIN (XDP, network namespaces)", true,
            h -> h.has(Host.CAP_NET_ADMIN) ? null : "the process lacks CAP_NET_ADMIN",
            "run as root (sudo ./panbpf ...), or: setcap cap_bpf,cap_perfmon,cap_net_admin+ep $JAVA_HOME/bin/java"),
    /** libbpf opens ELF objects, relocates and attaches them. */
    LIBBPF("libbpf.so.1 (libbpf 1.x)", true,
            h -> h.libbpfLoads() ? null : "libbpf.so.1 is not on the library path",
            "install libbpf 1.x: apt-get install libbpf1 (Debian/Ubuntu) or dnf install libbpf (Fedora)"),
    /** Kernel type information; CO-RE programs need it, and it tells a modern BPF kernel. */
    KERNEL_BTF("kernel BTF at /sys/kernel/btf/vmlinux", false,
            h -> h.exists("/sys/kernel/btf/vmlinux") ? null : "/sys/kernel/btf/vmlinux does not exist",
            "use a kernel built with CONFIG_DEBUG_INFO_BTF=y (distribution kernels since 2020 are); the samples "
                    + "here do not use CO-RE, so they may still run"),
    /** BPF_MAP_TYPE_RINGBUF arrived in Linux 5.8. */
    RING_BUFFER("BPF ring buffers (Linux 5.8+)", true,
            h -> {
                String p = h.ringBufferProblem();
                return p == null ? null : "creating a ring buffer failed on Linux " + h.kernelRelease() + ": " + p;
            },
            "boot Linux 5.8 or newer (uname -r shows the running kernel); if the error is EPERM, see the "
                    + "privileges line"),
    /** Tracepoints are attached by name under tracefs, and bpf_printk lines are read from its trace_pipe. */
    TRACEFS("tracefs at /sys/kernel/tracing", true,
            h -> h.exists("/sys/kernel/tracing/trace_pipe") ? null : "/sys/kernel/tracing/trace_pipe does not exist",
            "mount -t tracefs nodev /sys/kernel/tracing"),
    /** The XDP sample makes its network namespace and veth pair with ip(8). */
    IP_COMMAND("the ip command (iproute2)", true,
            h -> h.onPath("ip") ? null : "no 'ip' on the PATH",
            "apt-get install iproute2 (Debian/Ubuntu) or dnf install iproute (Fedora)");

    private final String what;
    private final boolean required;
    private final Function<Host, String> probe;
    private final String fix;

    Prerequisite(String what, boolean required, Function<Host, String> probe, String fix) {
        this.what = what;
        this.required = required;
        this.probe = probe;
        this.fix = fix;
    }

    /** What is needed, in words. */
    public String what() {
        return what;
    }

    /** Whether a command stops when this is missing (false: a warning only). */
    public boolean required() {
        return required;
    }

    /** The command that fixes it, or what to do. */
    public String fix() {
        return fix;
    }

    /** Returns null when {@code host} has this, else what was found instead. */
    public String check(Host host) {
        return probe.apply(host);
    }
}
