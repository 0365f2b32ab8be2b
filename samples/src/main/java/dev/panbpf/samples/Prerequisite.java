package dev.panbpf.samples;

import java.util.EnumSet;
import java.util.Set;
import java.util.function.Function;

/**
 * Prerequisite is one thing a command needs from this machine: how to tell it is missing, and the fix to print.
 * {@link #check} returns null when all is well, or what was found instead with its fix. The prerequisites that a
 * capability grants name it ({@link #capabilities()}), so a command's capability list comes from what it needs and
 * is checked by the same probes that run before it.
 */
public enum Prerequisite {
    /** The FFM API is final from Java 22. */
    JAVA("Java 22 or newer", true,
            "install a JDK 22+ (e.g. apt-get install openjdk-25-jdk) and point JAVA_HOME at it; ./panbpf picks one",
            h -> h.javaFeature() >= 22 ? null : found("this is Java " + h.javaFeature())),
    /** Calls into libc and libbpf are restricted methods. */
    NATIVE_ACCESS("native access for the FFM API", true,
            "run java --enable-native-access=ALL-UNNAMED -jar samples/target/panbpf-cli.jar (./panbpf does), or "
                    + "--enable-native-access=dev.panbpf,dev.panbpf.bindings on the module path",
            h -> h.nativeAccessEnabled() ? null : found("native access is not enabled")),
    /** bpf(2): every map and program. */
    BPF("CAP_BPF (maps and programs)", true, Prerequisite.GRANT,
            h -> lacks(h, Capability.BPF, true), Capability.BPF),
    /**
     * Tracing programs, perf events and bpf_printk; the verifier also refuses pointer arithmetic (as the producer
     * and XDP programs do) to a process without it.
     */
    PERFMON("CAP_PERFMON (tracing, perf events, printk)", true, Prerequisite.GRANT,
            h -> lacks(h, Capability.PERFMON, true), Capability.PERFMON),
    /** Loading XDP programs (even only to test-run them), attaching them and making veth pairs. */
    NET_ADMIN("CAP_NET_ADMIN (XDP programs)", true, Prerequisite.GRANT,
            h -> lacks(h, Capability.NET_ADMIN, false), Capability.NET_ADMIN),
    /** ip netns add: a mount of the namespace on a new file under /run/netns, which is root's. */
    NETNS("CAP_SYS_ADMIN + CAP_DAC_OVERRIDE (ip netns add)", true, Prerequisite.GRANT,
            h -> {
                Finding a = lacks(h, Capability.SYS_ADMIN, false);
                Finding b = lacks(h, Capability.DAC_OVERRIDE, false);
                return a == null ? b : b == null ? a
                        : found("the process lacks CAP_SYS_ADMIN and CAP_DAC_OVERRIDE");
            }, Capability.SYS_ADMIN, Capability.DAC_OVERRIDE),
    /** libbpf opens ELF objects, relocates and attaches them. */
    LIBBPF("libbpf.so.1 (libbpf 1.x)", true,
            "install libbpf 1.x: apt-get install libbpf1 (Debian/Ubuntu) or dnf install libbpf (Fedora)",
            h -> h.libbpfLoads() ? null : found("libbpf.so.1 is not on the library path")),
    /** Kernel type information; CO-RE programs need it, and it tells a modern BPF kernel. */
    KERNEL_BTF("kernel BTF at " + Paths.VMLINUX, false,
            "use a kernel built with CONFIG_DEBUG_INFO_BTF=y (distribution kernels since 2020 are); the samples "
                    + "here do not use CO-RE, so they may still run",
            h -> switch (h.access(Paths.VMLINUX)) {
                case READABLE -> null;
                case MISSING -> found(Paths.VMLINUX + " does not exist");
                case UNREADABLE -> new Finding(Paths.VMLINUX + " exists, but this process may not read it ("
                        + h.modeOf(Paths.VMLINUX) + ")", "the kernel makes it readable by everyone; make it so "
                        + "again: sudo chmod 444 " + Paths.VMLINUX);
            }),
    /** BPF_MAP_TYPE_RINGBUF arrived in Linux 5.8. */
    RING_BUFFER("BPF ring buffers (Linux 5.8+)", true,
            "boot Linux 5.8 or newer (uname -r shows the running kernel); if the error is EPERM, see the "
                    + "capability lines",
            h -> {
                String p = h.ringBufferProblem();
                return p == null ? null
                        : found("creating a ring buffer failed on Linux " + h.kernelRelease() + ": " + p);
            }),
    /** Tracepoints are attached by name under tracefs, and bpf_printk lines are read from its trace_pipe. */
    TRACEFS("tracefs mounted at " + Paths.TRACEFS, true,
            "sudo mount -t tracefs nodev " + Paths.TRACEFS + " (scripts/setup.sh deletions does it as root)",
            h -> {
                String type = h.mountType(Paths.TRACEFS);
                return "tracefs".equals(type) ? null : found(type == null ? "nothing is mounted at " + Paths.TRACEFS
                        : Paths.TRACEFS + " holds a " + type + " mount, not tracefs");
            }),
    /** tracefs is mode 700, root's alone, unless it was mounted with a group (gid=) and a wider mode. */
    TRACEFS_READABLE("tracefs readable by this process", true,
            "grant CAP_DAC_READ_SEARCH with the command's other capabilities; as it reads any file, you may let a "
                    + "group into tracefs instead: sudo mount -o remount,gid=GROUP,mode=0750 " + Paths.TRACEFS
                    + ", and run as a member of GROUP",
            h -> switch (h.access(Paths.TRACE_PIPE)) {
                case READABLE -> null;
                case UNREADABLE -> found("tracefs is mounted, but this process may not read it (" + Paths.TRACEFS
                        + " is " + h.modeOf(Paths.TRACEFS) + ")");
                case MISSING -> new Finding("tracefs is mounted but has no trace_pipe",
                        "use a kernel built with tracing (CONFIG_FTRACE=y), as distribution kernels are");
            }, Capability.DAC_READ_SEARCH),
    /** The XDP sample makes its network namespace and veth pair with ip(8). */
    IP_COMMAND("the ip command (iproute2)", true,
            "apt-get install iproute2 (Debian/Ubuntu) or dnf install iproute (Fedora)",
            h -> h.onPath("ip") ? null : found("no 'ip' on the PATH"));

    /** The fix of every prerequisite a capability grants; the report adds the command's whole list to it. */
    private static final String GRANT = "run as root, or grant the command's capabilities (listed with the "
            + "setpriv line) as ambient ones";

    /** Finding is what a failed check found, and the fix for it (null: the prerequisite's usual fix). */
    public record Finding(String found, String fix) { }

    private final String what;
    private final boolean required;
    private final String fix;
    private final Function<Host, Finding> probe;
    private final EnumSet<Capability> capabilities;

    Prerequisite(String what, boolean required, String fix, Function<Host, Finding> probe, Capability... caps) {
        this.what = what;
        this.required = required;
        this.fix = fix;
        this.probe = probe;
        this.capabilities = caps.length == 0 ? EnumSet.noneOf(Capability.class) : EnumSet.of(caps[0], caps);
    }

    /** What is needed, in words. */
    public String what() {
        return what;
    }

    /** Whether a command stops when this is missing (false: a warning only). */
    public boolean required() {
        return required;
    }

    /** The usual fix: a command to run, or what to do. */
    public String fix() {
        return fix;
    }

    /** The capabilities that grant this to a process that is not root; empty when none does. */
    public Set<Capability> capabilities() {
        return EnumSet.copyOf(capabilities);
    }

    /**
     * The prerequisites whose absence makes probing this one pointless, so one cause is not reported twice: the
     * ring buffer probe creates a map, and tracefs cannot be read where it is not mounted.
     */
    public Set<Prerequisite> reliesOn() {
        return switch (this) {
            case RING_BUFFER -> EnumSet.of(JAVA, NATIVE_ACCESS, BPF, LIBBPF);
            case TRACEFS_READABLE -> EnumSet.of(TRACEFS);
            default -> EnumSet.noneOf(Prerequisite.class);
        };
    }

    /** Returns null when {@code host} has this, else what was found instead and its fix. */
    public Finding check(Host host) {
        Finding f = probe.apply(host);
        return f == null || f.fix() != null ? f : new Finding(f.found(), fix);
    }

    private static Finding found(String found) {
        return new Finding(found, null);
    }

    /**
     * Null when the process holds {@code cap} (or, where the kernel accepts it instead, CAP_SYS_ADMIN), else the
     * finding that it lacks it.
     */
    private static Finding lacks(Host h, Capability cap, boolean sysAdminDoes) {
        if (h.has(cap) || (sysAdminDoes && h.has(Capability.SYS_ADMIN))) {
            return null;
        }
        return found("the process lacks " + cap.constant() + (sysAdminDoes ? " (CAP_SYS_ADMIN would also do)" : ""));
    }

    /** The paths the probes look at. */
    private static final class Paths {
        static final String VMLINUX = "/sys/kernel/btf/vmlinux";
        static final String TRACEFS = "/sys/kernel/tracing";
        static final String TRACE_PIPE = TRACEFS + "/trace_pipe";
    }
}
