package dev.panbpf.samples.fizzbuzz;

import dev.panbpf.BpfMap;
import dev.panbpf.BpfObject;
import dev.panbpf.bpf.BpfPrograms;
import dev.panbpf.event.StructCodec;
import dev.panbpf.samples.net.Ipv4;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandles;
import java.util.ArrayList;
import java.util.List;

/**
 * FizzBuzzQueue drives {@code sample_fizzbuzz.bpf.o}: it checks the object's message enum against {@link Message},
 * runs one version of the rule over crafted packets with BPF_PROG_TEST_RUN, and pops the verdicts from the
 * queue map in the order they were pushed.
 */
public final class FizzBuzzQueue implements AutoCloseable {
    private static final String OBJECT = "sample_fizzbuzz.bpf.o";
    private static final StructCodec<FizzBuzzEntry> ENTRY =
            StructCodec.of(FizzBuzzEntry.class, MethodHandles.lookup());

    private final BpfObject object;
    private final BpfMap queue;

    private FizzBuzzQueue(BpfObject object) {
        this.object = object;
        this.queue = object.map("fizzbuzz_queue");
    }

    /** Checks the enum (failing with every difference listed) and loads the programs. */
    public static FizzBuzzQueue load() {
        BpfObject object = BpfObject.open(BpfPrograms.bytes(OBJECT), "sample_fizzbuzz");
        try {
            // The enum the C side was compiled with, from the object's BTF, before anything reaches the kernel.
            EnumCheck.require(Message.class, Message.C_ENUM, Message.C_PREFIX, object.enumConstants(Message.C_ENUM));
            object.load();
            ENTRY.verify(object, "fizzbuzz_entry");
            return new FizzBuzzQueue(object);
        } catch (RuntimeException e) {
            object.close();
            throw e;
        }
    }

    /** Sends one packet per address through {@code rule}'s program and returns the verdicts, in order. */
    public List<FizzBuzzEntry> classify(Rule rule, List<Integer> sources) {
        var program = object.program(rule.program());
        List<FizzBuzzEntry> out = new ArrayList<>(sources.size());
        try (Arena a = Arena.ofConfined()) {
            MemorySegment value = a.allocate(ENTRY.layout());
            int pending = 0;
            for (int src : sources) {
                program.testRun(Ipv4.udpFrame(src, Ipv4.TEST_NET_1, 18));
                // Pop before the queue (max_entries) fills, or pushes would start failing.
                if (++pending == queue.maxEntries()) {
                    pending -= drain(value, out);
                }
            }
            drain(value, out);
        }
        return out;
    }

    private int drain(MemorySegment value, List<FizzBuzzEntry> out) {
        int n = 0;
        while (queue.pop(value)) {
            out.add(ENTRY.decode(value));
            n++;
        }
        return n;
    }

    /** Releases the programs and the queue. */
    @Override
    public void close() {
        object.close();
    }
}
