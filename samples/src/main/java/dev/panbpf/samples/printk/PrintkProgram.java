package dev.panbpf.samples.printk;

import dev.panbpf.BpfMap;
import dev.panbpf.BpfObject;
import dev.panbpf.BpfProgram;
import dev.panbpf.bpf.BpfPrograms;
import dev.panbpf.ringbuf.RingBuffer;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * PrintkProgram drives {@code sample_printk.bpf.o}: the same event written as a bpf_printk line or as a ring
 * buffer record, each run started with BPF_PROG_TEST_RUN. Lines carry a tag so a reader can tell them from
 * anyone else's.
 */
public final class PrintkProgram implements AutoCloseable {
    private static final int PRINTK = 0;
    private static final int RING = 1;

    private final BpfObject object;
    private final RingBuffer ring;
    private final int tag;
    private final MemorySegment packet;
    private final Arena arena = Arena.ofShared();

    private PrintkProgram(BpfObject object, RingBuffer ring, int tag) {
        this.object = object;
        this.ring = ring;
        this.tag = tag;
        this.packet = arena.allocate(64); // XDP test runs need a packet; its bytes do not matter here
    }

    /** Loads the program with {@code tag} in its lines and records. */
    public static PrintkProgram load(int tag) {
        BpfObject object = BpfObject.open(BpfPrograms.bytes("sample_printk.bpf.o"), "sample_printk");
        try {
            object.load();
            object.map("printk_tag").update(0, tag);
            return new PrintkProgram(object, RingBuffer.of(object.map("printk_ring")), tag);
        } catch (RuntimeException e) {
            object.close();
            throw e;
        }
    }

    /** The text that starts every line of this program's, after the trace header. */
    public String linePrefix() {
        return "panbpf-printk tag=" + Integer.toUnsignedString(tag) + " ";
    }

    /** Writes {@code n} bpf_printk lines. */
    public void printk(int n) {
        run(object.program("printk_line"), n);
    }

    /** Sends {@code n} ring buffer records. */
    public void record(int n) {
        run(object.program("ring_record"), n);
    }

    private void run(BpfProgram p, int n) {
        p.testRun(packet, n);
    }

    /** The ring buffer the records go to. */
    public RingBuffer ring() {
        return ring;
    }

    /** Lines written so far. */
    public long printkSent() {
        return sent(PRINTK);
    }

    /** Records attempted so far (a record that found the ring full is attempted, not delivered). */
    public long recordsSent() {
        return sent(RING);
    }

    private long sent(int slot) {
        BpfMap seq = object.map("printk_seq");
        Long n = seq.lookupLong(slot);
        return n == null ? 0 : n;
    }

    /** Releases the ring buffer and the object. */
    @Override
    public void close() {
        try (arena; object; ring) {
            // ring, then object, then the packet's memory
        }
    }
}
