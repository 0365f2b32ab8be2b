package dev.panbpf.samples.xdp;

import dev.panbpf.BpfLink;
import dev.panbpf.BpfObject;
import dev.panbpf.bpf.BpfPrograms;
import dev.panbpf.event.StructCodec;
import dev.panbpf.perf.PerfOptions;

import java.time.Duration;
import java.util.function.BiConsumer;
import java.util.function.Consumer;

/**
 * PacketTracer attaches {@code sample_xdp_events.bpf.o} to an interface and reads its packet events from both
 * buffers the program writes: the ring buffer (one ring shared by all CPUs) and the perf event array (one ring per
 * CPU). Every packet yields one event on each. It goes through the skeleton and record generated from the object
 * ({@link SampleXdpEventsObject}, {@link PacketEvent}).
 */
public final class PacketTracer implements AutoCloseable {
    private final SampleXdpEventsObject bpf;
    private final SampleXdpEventsObject.TypedRing<PacketEvent> ring;
    private final SampleXdpEventsObject.TypedPerf<PacketEvent> perf;
    private final BpfLink link;

    private PacketTracer(SampleXdpEventsObject bpf, SampleXdpEventsObject.TypedRing<PacketEvent> ring,
                         SampleXdpEventsObject.TypedPerf<PacketEvent> perf, BpfLink link) {
        this.bpf = bpf;
        this.ring = ring;
        this.perf = perf;
        this.link = link;
    }

    /** Loads the program and attaches it to {@code ifname} (an interface of this network namespace). */
    @SuppressWarnings("try") // the try only closes what was opened before the failure
    public static PacketTracer attach(String ifname) {
        BpfObject object = BpfObject.open(BpfPrograms.bytes("sample_xdp_events.bpf.o"), "sample_xdp_events");
        SampleXdpEventsObject.TypedRing<PacketEvent> ring = null;
        SampleXdpEventsObject.TypedPerf<PacketEvent> perf = null;
        try {
            SampleXdpEventsObject bpf = SampleXdpEventsObject.of(object);
            bpf.load();          // fails, listing each difference, if the record and the struct disagree
            ring = bpf.packetsRingReader();
            // Perf pads each sample to 8 bytes: ask for exactly the struct's 12.
            perf = bpf.packetsPerfReader(PerfOptions.defaults().payloadSize((int) ring.codec().byteSize()));
            // Attach last: from here on packets produce events, and both readers are ready for them.
            BpfLink link = bpf.packetEvents().attachXdp(ifname);
            return new PacketTracer(bpf, ring, perf, link);
        } catch (RuntimeException e) {
            try (object; var r = ring; var p = perf) {
                throw e;
            }
        }
    }

    /**
     * Waits up to {@code timeout} for ring buffer events and hands each to {@code onRing}, then takes what the
     * perf buffer holds, handing each to {@code onPerf} with its CPU. Returns the number of events handled.
     */
    public int poll(Consumer<PacketEvent> onRing, BiConsumer<Integer, PacketEvent> onPerf, Duration timeout) {
        int n = ring.poll(e -> {
            onRing.accept(e);
            return true;
        }, timeout);
        StructCodec<PacketEvent> codec = perf.codec();
        return n + perf.perf().consume((cpu, payload, time) -> {   // the untyped reader: it knows each CPU
            onPerf.accept(cpu, codec.decode(payload));
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
        return ring.ring().discarded();
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
        try (bpf; ring; perf; link) {
            // closed in reverse order: link (stop events), perf, ring, object
        }
    }
}
