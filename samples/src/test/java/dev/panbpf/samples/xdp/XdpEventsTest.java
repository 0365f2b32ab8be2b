package dev.panbpf.samples.xdp;

import dev.panbpf.samples.Host;
import dev.panbpf.samples.Main;
import dev.panbpf.samples.StopSignal;
import dev.panbpf.samples.net.Ip;
import dev.panbpf.samples.net.Ipv4;
import dev.panbpf.samples.net.VethLab;
import dev.panbpf.testing.Kernel;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

@Timeout(60)
class XdpEventsTest {
    private static final int FRAME_OVERHEAD = Ipv4.ETH_HLEN + Ipv4.IP_HLEN + Ipv4.UDP_HLEN;

    @BeforeAll
    static void needs() {
        Kernel.requireRoot();
        Kernel.require(new Host().onPath("ip"), "the ip command (apt-get install iproute2)");
    }

    @Test
    void bothBuffersReportEachSentPacketWithItsAddressesAndSize() throws Exception {
        List<Integer> payloads = List.of(1, 18, 200, 1000, 1400);
        List<PacketEvent> ring = new ArrayList<>();
        List<PacketEvent> perf = new ArrayList<>();
        Map<Integer, List<PacketEvent>> perfByCpu = new TreeMap<>();
        try (VethLab lab = VethLab.create(); PacketTracer tracer = PacketTracer.attach(lab.hostEnd())) {
            assertEquals(payloads.size(), lab.sendToHost(payloads));
            long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
            while ((ring.size() < payloads.size() || perf.size() < payloads.size()) && System.nanoTime() < deadline) {
                tracer.poll(ring::add, (cpu, e) -> {
                    perf.add(e);
                    perfByCpu.computeIfAbsent(cpu, c -> new ArrayList<>()).add(e);
                }, Duration.ofMillis(50));
            }
            List<PacketEvent> expected = new ArrayList<>();
            for (int p : payloads) {
                expected.add(new PacketEvent(Integer.toUnsignedLong(lab.peerAddress()),
                        Integer.toUnsignedLong(lab.hostAddress()), p + FRAME_OVERHEAD));   // __u32 as generated
            }
            // Only IPv4 reaches the events (ARP and IPv6 from the peer are skipped by the program), and nothing
            // else sends from the peer, so the events are exactly the datagrams: on the ring buffer in the order
            // sent. The perf buffer keeps order only per CPU (veth may take packets on either CPU, and the reader
            // goes through the CPUs in turn), so it must hold the same events, each CPU's in the order sent.
            assertEquals(expected, ring);
            assertEquals(sortedBySize(expected), sortedBySize(perf));
            for (List<PacketEvent> onCpu : perfByCpu.values()) {
                List<PacketEvent> inSendOrder = new ArrayList<>(expected);
                inSendOrder.retainAll(onCpu);
                assertEquals(inSendOrder, onCpu, "one CPU's events in the order sent: " + perfByCpu);
            }
            assertEquals(0, tracer.ringProducerDrops());
            assertEquals(0, tracer.ringDiscarded());
            assertEquals(0, tracer.perfLost());
            assertEquals(0, tracer.perfProducerDrops());
        }
    }

    private static List<PacketEvent> sortedBySize(List<PacketEvent> events) {
        return events.stream().sorted(java.util.Comparator.comparingLong(e -> e.packetSize())).toList();
    }

    @Test
    void theCommandPrintsDottedQuadEventsFromBothBuffersAndRemovesItsNamespace() {
        Set<String> before = namespaces();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int status = new Main().run(List.of("xdp-events", "--packets", "3"),
                new PrintStream(out, true, StandardCharsets.UTF_8), System.err, new Host(), StopSignal.manual());
        String text = out.toString(StandardCharsets.UTF_8);
        assertEquals(0, status, text);
        long ringLines = text.lines().filter(l -> l.startsWith("ring buffer ") && l.contains(" -> ")).count();
        long perfLines = text.lines().filter(l -> l.startsWith("perf buffer cpu") && l.contains(" -> ")).count();
        assertEquals(3, ringLines, text);
        assertEquals(3, perfLines, text);
        assertTrue(text.contains("ring buffer: 3 events, 0 discarded, 0 producer drops; perf buffer: 3 events, 0 lost, "
                + "0 producer drops"), text);
        assertTrue(text.matches("(?s).*198\\.1[89]\\.\\d+\\.\\d+ +-> 198\\.1[89]\\.\\d+\\.\\d+ +60 bytes.*"), text);
        assertEquals(before, namespaces());
        assertFalse(Ip.run("link").contains("pb" + ProcessHandle.current().pid() + "h"));
    }

    @Test
    void watchModePrintsWhatAGivenInterfaceReceivesUntilItsTimeIsUp() throws Exception {
        try (VethLab lab = VethLab.create()) { // the "given" interface is one this test owns
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            int[] status = {-1};
            Thread watcher = new Thread(() -> status[0] = new Main().run(
                    List.of("xdp-events", "--interface", lab.hostEnd(), "--seconds", "3"),
                    new PrintStream(out, true, StandardCharsets.UTF_8), System.err, new Host(), StopSignal.manual()));
            watcher.start();
            long deadline = System.nanoTime() + Duration.ofSeconds(2).toNanos();
            while (!out.toString(StandardCharsets.UTF_8).contains("XDP program on") && System.nanoTime() < deadline) {
                Thread.sleep(10); // attached once the banner is out
            }
            lab.sendToHost(List.of(100, 200));
            watcher.join(10_000);
            String text = out.toString(StandardCharsets.UTF_8);
            assertEquals(0, status[0], text);
            String from = Ipv4.text(lab.peerAddress()) + " +-> " + Ipv4.text(lab.hostAddress());
            assertEquals(2, text.lines().filter(l -> l.startsWith("ring buffer ") && l.matches(".*" + from + ".*"))
                    .count(), text);
            assertEquals(2, text.lines().filter(l -> l.startsWith("perf buffer cpu") && l.matches(".*" + from + ".*"))
                    .count(), text);
            assertTrue(text.contains("142 bytes") && text.contains("242 bytes"), text);
        }
    }

    @Test
    void anUnknownInterfaceIsAClearError() {
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int status = new Main().run(List.of("xdp-events", "--interface", "nosuchif0"), System.out,
                new PrintStream(err, true, StandardCharsets.UTF_8), new Host(), StopSignal.manual());
        assertEquals(1, status);
        assertTrue(err.toString(StandardCharsets.UTF_8).contains("no network interface 'nosuchif0'"), err.toString());
    }

    private static Set<String> namespaces() {
        Set<String> s = new TreeSet<>();
        Ip.run("netns", "list").lines().forEach(l -> s.add(l.split(" ")[0]));
        return s;
    }
}
