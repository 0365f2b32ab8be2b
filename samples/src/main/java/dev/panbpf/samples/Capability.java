package dev.panbpf.samples;

import java.util.Collection;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * Capability is one Linux capability a sample may need instead of root, with its number from
 * include/uapi/linux/capability.h. The order is the order they are listed in: BPF first, then what comes on top.
 */
public enum Capability {
    /** bpf(2): creating maps and loading programs. */
    BPF(39),
    /** Tracing programs and perf events; the verifier also lets such a process do pointer arithmetic. */
    PERFMON(38),
    /** Network programs (XDP) and network configuration (veth pairs). */
    NET_ADMIN(12),
    /** Namespaces and mounts; the kernel also lets it stand for CAP_BPF and CAP_PERFMON. */
    SYS_ADMIN(21),
    /** Writing files whatever their mode, such as the namespace files under /run/netns. */
    DAC_OVERRIDE(1),
    /** Reading files whatever their mode, such as tracefs, which is root's alone by default. */
    DAC_READ_SEARCH(2);

    private final int number;

    Capability(int number) {
        this.number = number;
    }

    /** The capability's number, its bit in /proc/PID/status CapEff. */
    public int number() {
        return number;
    }

    /** The name the man pages use, such as {@code CAP_BPF}. */
    public String constant() {
        return "CAP_" + name();
    }

    /** The name setpriv and capsh take, such as {@code bpf}. */
    public String shortName() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** The names as a systemd unit lists them: {@code CAP_BPF CAP_PERFMON}. */
    public static String constants(Collection<Capability> caps) {
        return caps.stream().map(Capability::constant).collect(Collectors.joining(" "));
    }

    /** The names as setpriv's --inh-caps and --ambient-caps take them: {@code +bpf,+perfmon}. */
    public static String setprivList(Collection<Capability> caps) {
        return caps.stream().map(c -> "+" + c.shortName()).collect(Collectors.joining(","));
    }
}
