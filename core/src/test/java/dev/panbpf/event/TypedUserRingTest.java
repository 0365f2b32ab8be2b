package dev.panbpf.event;

import dev.panbpf.BpfObject;
import dev.panbpf.bpf.BpfPrograms;
import dev.panbpf.ringbuf.UserRingBuffer;
import dev.panbpf.testing.Kernel;
import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;

import static org.junit.jupiter.api.Assertions.*;

/** Records encoded into a user ring buffer are what bpf-src's user_ringbuf program reads. */
class TypedUserRingTest {

    /** struct drain_totals of user_ringbuf.bpf.c. */
    record DrainTotals(@Unsigned long drains, long lastRet, @Unsigned long samples, @Unsigned long valueSum,
                       @Unsigned long bytes, @Unsigned long bad, @Unsigned long outOfOrder, @Unsigned long next) { }

    /** struct sample_head of user_ringbuf.bpf.c (a type of a local variable only, so not in its BTF). */
    @Padding(4)
    record SampleHead(@Unsigned long value, @Unsigned(4) long size) { }

    @Test
    void encodedRecordsAreReadByTheKernelAndItsTotalsDecodeBack() {
        Kernel.requireRoot();
        try (BpfObject obj = BpfObject.open(BpfPrograms.bytes("user_ringbuf.bpf.o"), "user_ringbuf")) {
            StructCodec<SampleHead> head = StructCodec.of(SampleHead.class);
            StructCodec<DrainTotals> totals = StructCodec.of(DrainTotals.class).verify(obj, "drain_totals");
            obj.load();
            try (UserRingBuffer ring = UserRingBuffer.of(obj.map("user_rb"))) {
                for (long v = 0; v < 5; v++) {
                    MemorySegment s = ring.reserve((int) head.byteSize());
                    assertNotNull(s, "room for five 16-byte samples");
                    s.fill((byte) 0x77);          // reserve hands out leftover bytes; encode writes every one
                    head.encode(new SampleHead(v, head.byteSize()), s);
                    ring.submit(s);
                }
                obj.program("drain").testRun(new byte[64], 1);
            }
            DrainTotals t = totals.lookup(obj.map("totals"), 0);
            assertEquals(new DrainTotals(1, 5, 5, 10, 80, 0, 0, 5), t);
        }
    }
}
