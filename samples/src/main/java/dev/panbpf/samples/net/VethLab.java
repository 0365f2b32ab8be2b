package dev.panbpf.samples.net;

import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.FutureTask;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * VethLab is a private two-host network: a network namespace and a veth pair whose host end stays in this
 * namespace and whose peer end lives in the new one, on a /30 from 198.18.0.0/15 (the range set aside for
 * benchmarks, RFC 2544). Traffic sent from the peer arrives on the host end, where an XDP program sees it. Close
 * removes everything; a shutdown hook does the same if the JVM exits first (Ctrl-C).
 *
 * <pre>
 *   this namespace                      | namespace panbpf-PID-N
 *   host end  198.18.x.y+1/30  &lt;== veth ==&gt;  peer end  198.18.x.y+2/30
 * </pre>
 */
public final class VethLab implements AutoCloseable {
    private static final int BENCH_NET = 198 << 24 | 18 << 16; // 198.18.0.0/15
    private static final int BLOCKS = 1 << 15;                    // /30 blocks in a /15
    private static final AtomicInteger COUNTER = new AtomicInteger();

    private final String namespace;
    private final String hostEnd;
    private final String peerEnd;
    private final int hostAddr;
    private final int peerAddr;
    private final Deque<String[]> undo = new ArrayDeque<>();
    private final Thread hook = new Thread(this::close, "veth-lab-cleanup");
    private boolean closed;

    private VethLab(String namespace, String hostEnd, String peerEnd, int base) {
        this.namespace = namespace;
        this.hostEnd = hostEnd;
        this.peerEnd = peerEnd;
        this.hostAddr = base + 1;
        this.peerAddr = base + 2;
    }

    /** VethLab.create builds the namespace and the pair and brings both ends up. */
    public static VethLab create() {
        long pid = ProcessHandle.current().pid();
        int n = COUNTER.getAndIncrement();
        VethLab lab = new VethLab("panbpf-" + pid + "-" + n, "pb" + pid + "h" + n, "pb" + pid + "p" + n,
                freeBlock(pid, n));
        Runtime.getRuntime().addShutdownHook(lab.hook);
        try {
            lab.build();
            return lab;
        } catch (RuntimeException e) {
            lab.close();
            throw e;
        }
    }

    private void build() {
        step(new String[] {"netns", "add", namespace}, "netns", "del", namespace);
        step(new String[] {"link", "add", hostEnd, "type", "veth", "peer", "name", peerEnd, "netns", namespace},
                "link", "del", hostEnd); // deleting one end deletes the pair
        Ip.run("addr", "add", Ipv4.text(hostAddr) + "/30", "dev", hostEnd);
        Ip.run("link", "set", hostEnd, "up");
        Ip.run("-n", namespace, "addr", "add", Ipv4.text(peerAddr) + "/30", "dev", peerEnd);
        Ip.run("-n", namespace, "link", "set", peerEnd, "up");
        awaitUp();
    }

    private void step(String[] run, String... reverse) {
        Ip.run(run);
        undo.push(reverse);
    }

    private void awaitUp() {
        Path state = Path.of("/sys/class/net", hostEnd, "operstate");
        long deadline = System.nanoTime() + 5_000_000_000L;
        try {
            while (!Files.readString(state).trim().equals("up")) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException(hostEnd + " did not come up within 5 s");
                }
                Thread.sleep(10);
            }
        } catch (IOException e) {
            throw new IllegalStateException("cannot read " + state, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for " + hostEnd, e);
        }
    }

    /** Picks a /30 no interface of this namespace uses, so an old leftover never collides with this run. */
    private static int freeBlock(long pid, int n) {
        int start = (int) ((pid * 64 + n) % BLOCKS);
        for (int i = 0; i < 256; i++) {
            int base = BENCH_NET + 4 * ((start + i) % BLOCKS);
            if (!inUse(base)) {
                return base;
            }
        }
        throw new IllegalStateException("no free /30 in 198.18.0.0/15 near block " + start);
    }

    private static boolean inUse(int base) {
        try {
            for (NetworkInterface nif : NetworkInterface.networkInterfaces().toList()) {
                for (InetAddress a : nif.inetAddresses().toList()) {
                    if (a instanceof Inet4Address v4 && (Ipv4.of(v4) & ~3) == base) {
                        return true;
                    }
                }
            }
            return false;
        } catch (SocketException e) {
            throw new IllegalStateException("cannot list network interfaces", e);
        }
    }

    /** The namespace's name. */
    public String namespace() {
        return namespace;
    }

    /** The interface in this namespace, which receives what the peer sends. */
    public String hostEnd() {
        return hostEnd;
    }

    /** The host end's address, host byte order. */
    public int hostAddress() {
        return hostAddr;
    }

    /** The peer end's address, host byte order. */
    public int peerAddress() {
        return peerAddr;
    }

    /**
     * Sends one UDP datagram per entry of {@code payloadSizes} from the peer namespace to the host end, while a
     * socket on the host end receives them (concurrently, so its buffer never overflows); returns how many arrived,
     * giving up two seconds after the last one.
     */
    public int sendToHost(List<Integer> payloadSizes) throws Exception {
        try (DatagramSocket rx = new DatagramSocket(new InetSocketAddress(Ipv4.address(hostAddr), 0))) {
            rx.setSoTimeout(2000);
            FutureTask<Integer> receiving = new FutureTask<>(() -> receive(rx, payloadSizes.size()));
            new Thread(receiving, "veth-lab-receiver").start();
            InetSocketAddress to = new InetSocketAddress(Ipv4.address(hostAddr), rx.getLocalPort());
            NetNs.call(namespace, () -> {
                try (DatagramChannel tx = DatagramChannel.open()) {
                    for (int size : payloadSizes) {
                        tx.send(ByteBuffer.allocate(size), to);
                    }
                }
                return null;
            });
            return receiving.get();
        }
    }

    private static int receive(DatagramSocket rx, int expected) throws IOException {
        byte[] buf = new byte[65536];
        int received = 0;
        try {
            while (received < expected) {
                rx.receive(new DatagramPacket(buf, buf.length));
                received++;
            }
        } catch (SocketTimeoutException e) {
            // fewer arrived; the caller reports the count
        }
        return received;
    }

    /** Removes the veth pair and the namespace (idempotent; also run by the shutdown hook). */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        RuntimeException first = null;
        while (!undo.isEmpty()) {
            try {
                Ip.run(undo.pop());
            } catch (RuntimeException e) {
                first = first == null ? e : first;
            }
        }
        if (Thread.currentThread() != hook) {
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException shuttingDown) {
                // the hook runs or ran close() already
            }
        }
        if (first != null) {
            throw first;
        }
    }
}
