package dev.panbpf.samples.xdp;

import dev.panbpf.BpfLink;
import dev.panbpf.BpfObject;
import dev.panbpf.bpf.BpfPrograms;
import dev.panbpf.event.StructCodec;
import dev.panbpf.perf.PerfBuffer;
import dev.panbpf.perf.PerfOptions;
import dev.panbpf.ringbuf.RingBuffer;

import java.lang.invoke.MethodHandles;
import java.time.Duration;
import java.util.function.BiConsumer;
import java.util.function.Consumer;

/**
 * PacketTracer attaches {@code sample_xdp_events.bpf.o} to an interface and reads its packet events from both
 * buffers the program writes: the ring buffer (one ring shared by all CPUs) and the perf event array (one ring per
 * CPU). Every packet yields one event on each.
 */
public final class PacketTracer implements AutoCloseable {
    private static final StructCodec<PacketEvent> EVENT = StructCodec.of(PacketEvent.class, MethodHandles.lookup());

    private final BpfObject object;
    private final RingBuffer ring;
    private final PerfBuffer perf;
    private final BpfLink link;

    private PacketTracer(BpfObject object, RingBuffer ring, PerfBuffer perf, BpfLink link) {
        this.object = object;
        this.ring = ring;
        this.perf = perf;
        this.link = link;
    }

    /** Loads the program and attaches it to {@code ifname} (an interface of this network namespace). */
    @SuppressWarnings("try") // the try only closes what was opened before the failure
    public static PacketTracer attach(String ifname) {
        BpfObject object = BpfObject.open(BpfPrograms.bytes("sample_xdp_events.bpf.o"), "sample_xdp_events");
        RingBuffer ring = null;
        PerfBuffer perf = null;
        try {
            object.load();
            EVENT.verify(object, "packet_event"); // fails, listing each difference, if record and struct disagree
            ring = RingBuffer.of(object.map("packets_ring"));
            perf = PerfBuffer.of(object.map("packets_perf"),
                    PerfOptions.defaults().payloadSize((int) EVENT.byteSize()));
            // Attach last: from here on packets produce events, and both readers are ready for them.
            BpfLink link = object.program("packet_events").attachXdp(ifname);
            return new PacketTracer(object, ring, perf, link);
        } catch (RuntimeException e) {
            try (object; RingBuffer r = ring; PerfBuffer p = perf) {
                throw e;
            }
        }
    }

    /**
     * Waits up to {@code timeout} for ring buffer events and hands each to {@code onRing}, then takes what the
     * perf buffer holds, handing each to {@code onPerf} with its CPU. Returns the number of events handled.
     */
    public int poll(Consumer<PacketEvent> onRing, BiConsumer<Integer, PacketEvent> onPerf, Duration timeout) {
        int n = ring.poll(EVENT, e -> {
            onRing.accept(e);
            return true;
        }, timeout);
        return n + perf.consume((cpu, payload, time) -> {
            onPerf.accept(cpu, EVENT.decode(payload));
            return true;
        });
    }

    /** Releases a thread waiting in {@link #poll} (for Ctrl-C). */
    public void wakeup() {
        ring.wakeup();
    }

    /** Events the ring buffer had no room for: the program's panbpf_ringbuf_reserve counted them. */
    public long ringProducerDrops() {
        return ring.producerDrops();
    }

    /** Records the program reserved and then discarded (this one never does). */
    public long ringDiscarded() {
        return ring.discarded();
    }

    /** Events the kernel reported lost because a CPU's perf ring was full (LOST records). */
    public long perfLost() {
        return perf.lost();
    }

    /** Perf outputs that failed for another reason (no reader on that CPU...), counted by the program's wrapper. */
    public long perfProducerDrops() {
        return perf.producerDrops();
    }

    /** Detaches the program and releases both buffers and the object. */
    @Override
    public void close() {
        try (object; ring; perf; link) {
            // closed in reverse order: link (stop events), perf, ring, object
        }
    }
}
