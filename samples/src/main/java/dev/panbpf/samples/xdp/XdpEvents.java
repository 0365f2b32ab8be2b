package dev.panbpf.samples.xdp;

import dev.panbpf.samples.Args;
import dev.panbpf.samples.Command;
import dev.panbpf.samples.Option;
import dev.panbpf.samples.Prerequisite;
import dev.panbpf.samples.StopSignal;
import dev.panbpf.samples.UsageException;
import dev.panbpf.samples.net.Ipv4;
import dev.panbpf.samples.net.VethLab;

import java.io.PrintStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;

/**
 * XdpEvents is the {@code xdp-events} command: an XDP program reports each IPv4 packet an interface receives over
 * a ring buffer and over a perf buffer. By default it builds a private namespace + veth pair, sends a few UDP
 * datagrams from the namespace to the host end where the program is attached, prints the events, and removes
 * the pair. With {@code --interface} it watches a real interface instead and sends nothing.
 */
public final class XdpEvents implements Command {
    private static final Duration PATIENCE = Duration.ofSeconds(3);
    /** Sends happen before reads, so both buffers must hold every event; the 64 KiB ring takes 2,730. */
    private static final int MAX_PACKETS = 2000;

    @Override
    public String name() {
        return "xdp-events";
    }

    @Override
    public String summary() {
        return "XDP packet events {src, dest, size} over a ring buffer and a perf buffer";
    }

    @Override
    public List<Option> options() {
        return List.of(
                Option.of("packets", "N", "datagrams to send through the private veth pair (default 5, at most "
                        + MAX_PACKETS + ")"),
                Option.of("interface", "IF", "watch this interface instead; sends nothing (until Ctrl-C)"),
                Option.of("seconds", "N", "with --interface: stop after N seconds"));
    }

    @Override
    public Set<Prerequisite> needs(Args args) {
        EnumSet<Prerequisite> n = EnumSet.of(Prerequisite.JAVA, Prerequisite.NATIVE_ACCESS, Prerequisite.BPF,
                Prerequisite.PERFMON, Prerequisite.NET_ADMIN, Prerequisite.LIBBPF, Prerequisite.KERNEL_BTF,
                Prerequisite.RING_BUFFER);
        if (!args.has("interface")) {
            // The private veth pair's far end lives in a namespace of its own (ip netns add).
            n.add(Prerequisite.NETNS);
            n.add(Prerequisite.IP_COMMAND);
        }
        return n;
    }

    @Override
    public int run(Args args, PrintStream out, StopSignal stop) throws Exception {
        if (args.has("interface")) {
            return watch(args.string("interface", ""), args.seconds("seconds", null), out, stop);
        }
        int packets = args.positiveInt("packets", 5);
        if (packets > MAX_PACKETS) {
            throw new UsageException("--packets " + packets + " is more than the buffers hold (the sample sends first "
                    + "and reads after); use at most " + MAX_PACKETS);
        }
        try (VethLab lab = VethLab.create(); PacketTracer tracer = PacketTracer.attach(lab.hostEnd())) {
            stop.onRaise(tracer::wakeup);
            out.printf("XDP program on %s (%s); its veth peer %s is in namespace %s%n", lab.hostEnd(),
                    Ipv4.text(lab.hostAddress()), Ipv4.text(lab.peerAddress()), lab.namespace());
            List<Integer> sizes = new ArrayList<>();
            for (int i = 0; i < packets; i++) {
                // UDP payload bytes, kept under the veth's 1500-byte MTU; the frame adds 42 (Ethernet 14, IPv4 20,
                // UDP 8), which the events' sizes include.
                sizes.add(18 + (100 * i) % 1400);
            }
            int arrived = lab.sendToHost(sizes);
            out.printf("sent %d UDP datagrams from %s to %s; a socket there received %d%s%n%n", packets,
                    Ipv4.text(lab.peerAddress()), Ipv4.text(lab.hostAddress()), arrived, arrived < packets
                            ? " (a socket drops what overflows its buffer; XDP runs before that and sees them all)"
                            : "");
            int[] seen = new int[2];
            long deadline = System.nanoTime() + PATIENCE.toNanos();
            while ((seen[0] < packets || seen[1] < packets) && System.nanoTime() < deadline && !stop.raised()) {
                print(tracer, out, seen, Duration.ofMillis(100));
            }
            summary(out, seen[0], seen[1], tracer);
            return seen[0] >= arrived && seen[1] >= arrived ? 0 : 1;
        }
    }

    private static int watch(String ifname, Duration seconds, PrintStream out, StopSignal stop) {
        try (PacketTracer tracer = PacketTracer.attach(ifname)) {
            stop.onRaise(tracer::wakeup);
            out.println("XDP program on " + ifname + "; printing IPv4 packets it receives"
                    + (seconds == null ? " until Ctrl-C" : " for " + seconds.toSeconds() + " s"));
            int[] seen = new int[2];
            long end = seconds == null ? Long.MAX_VALUE : System.nanoTime() + seconds.toNanos();
            while (!stop.raised() && System.nanoTime() < end) {
                print(tracer, out, seen, Duration.ofMillis(200));
            }
            summary(out, seen[0], seen[1], tracer);
            return 0;
        }
    }

    /** Polls once, printing each event and counting it in {@code seen}: [0] ring buffer, [1] perf buffer. */
    private static void print(PacketTracer tracer, PrintStream out, int[] seen, Duration timeout) {
        tracer.poll(e -> {
            out.println("ring buffer        " + describe(e));
            seen[0]++;
        }, (cpu, e) -> {
            out.printf("perf buffer cpu %-2d %s%n", cpu, describe(e));
            seen[1]++;
        }, timeout);
    }

    private static void summary(PrintStream out, int ring, int perf, PacketTracer tracer) {
        out.printf("%nring buffer: %d events, %d discarded, %d producer drops; perf buffer: %d events, %d lost, "
                + "%d producer drops%n", ring, tracer.ringDiscarded(), tracer.ringProducerDrops(), perf,
                tracer.perfLost(), tracer.perfProducerDrops());
    }

    /** One event as a line: source, destination (dotted quads) and the frame's size. */
    static String describe(PacketEvent e) {
        return String.format("%-15s -> %-15s %5d bytes", Ipv4.text((int) e.srcIp()), Ipv4.text((int) e.destIp()),
                e.packetSize());
    }
}
