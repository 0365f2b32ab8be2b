package dev.panbpf.event;

import dev.panbpf.BpfObject;
import dev.panbpf.bpf.BpfPrograms;
import dev.panbpf.event.EventStructs.*;
import dev.panbpf.perf.OrderedPerfBuffer;
import dev.panbpf.perf.PerfBuffer;
import dev.panbpf.perf.PerfOptions;
import dev.panbpf.ringbuf.RingBuffer;
import dev.panbpf.testing.Kernel;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** Typed records delivered by the ring buffer, the perf buffer and map lookups, from typed_events.bpf.o. */
class TypedBuffersTest {
    private BpfObject obj;
    private StructCodec<NetEvent> codec;

    @BeforeEach
    void load() {
        Kernel.requireRoot();
        obj = BpfObject.open(BpfPrograms.bytes("typed_events.bpf.o"), "typed_events");
        codec = StructCodec.of(NetEvent.class).verify(obj, "net_event");
        obj.load();
    }

    @AfterEach
    void close() {
        if (obj != null) {
            obj.close();
        }
    }

    private void run(int times) {
        for (int i = 0; i < times; i++) {
            assertEquals(2, obj.program("emit").testRun(new byte[64], 1).retval(), "XDP_PASS");
        }
    }

    private static void assertDerivedFromInput(NetEvent e) {
        assertEquals(0xFFFF_FFF1L, e.pid());
        assertEquals("java-agent", e.comm());
        assertEquals(new Endpoint(0xC0A8_0001L, 444, 17), e.dst());
        assertEquals(Kind.EXEC, e.kind());
        assertEquals(Long.MIN_VALUE + 10 + 64, e.bytes());
    }

    /** A C struct key: struct flow { __u32 saddr; __u32 daddr; __u16 port; __u8 proto; } (12 bytes). */
    record Flow(@Unsigned(4) long saddr, @Unsigned(4) long daddr, @Unsigned(2) int port, @Unsigned(1) int proto) { }

    @Test
    void hashMapsTakeRecordKeysAndValues() {
        StructCodec<Flow> keys = StructCodec.of(Flow.class);
        StructCodec<Endpoint> values = StructCodec.of(Endpoint.class);
        try (dev.panbpf.BpfMap hash = dev.panbpf.BpfMap.create(dev.panbpf.MapType.HASH, (int) keys.byteSize(),
                (int) values.byteSize(), 16, 0, "flows")) {
            Flow a = new Flow(0xC0A8_0001L, 0x0A00_0001L, 443, 6);
            Flow b = new Flow(0xC0A8_0001L, 0x0A00_0001L, 443, 17);
            values.update(hash, keys, a, new Endpoint(1, 2, 3));
            values.update(hash, keys, b, new Endpoint(4, 5, 6));
            assertEquals(new Endpoint(1, 2, 3), values.lookup(hash, keys, a));
            assertEquals(new Endpoint(4, 5, 6), values.lookup(hash, keys, b), "keys differing in one field");
            assertNull(values.lookup(hash, keys, new Flow(0xC0A8_0001L, 0x0A00_0001L, 444, 6)));
            StructCodec<Endpoint> wrongKey = StructCodec.of(Endpoint.class);
            assertEquals(12, keys.byteSize());
            assertThrows(IllegalArgumentException.class, () -> values.lookup(hash, wrongKey, new Endpoint(1, 2, 3)),
                    "an 8-byte key for 12-byte keys never reaches the kernel");
        }
    }

    /** A record no test verifies, so its codec stays unproven. */
    record Unproven(long a, long b) {}

    @Test
    void typedViewsRefuseACodecThatWasNeverVerified() {
        StructCodec<Unproven> unproven = StructCodec.of(Unproven.class);
        assertFalse(unproven.isVerified());
        try (RingBuffer ring = RingBuffer.of(obj.map("events"));
             PerfBuffer perf = PerfBuffer.of(obj.map("perf_events"))) {
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> ring.consume(unproven, x -> true));
            assertTrue(e.getMessage().contains(".verify(object"), e.getMessage());
            assertThrows(IllegalStateException.class, () -> perf.poll(unproven, x -> true, Duration.ZERO));
            assertEquals(0, ring.consume(unproven.assumeVerified(), x -> true), "accepted once vouched for");
        }
    }

    @Test
    void ringBufferDeliversTypedRecordsInOrder() {
        codec.update(obj.map("input"), 0, TypedEventsTest.INPUT);
        try (RingBuffer ring = RingBuffer.of(obj.map("events"))) {
            run(3);
            List<NetEvent> got = new ArrayList<>();
            assertEquals(3, ring.poll(codec, got::add, Duration.ofSeconds(5)));
            assertEquals(3, got.size());
            got.forEach(TypedBuffersTest::assertDerivedFromInput);
            assertTrue(got.get(0).ts() < got.get(1).ts() && got.get(1).ts() < got.get(2).ts(), "in order");
            assertEquals(got.get(2), codec.lookup(obj.map("last"), 0), "the ring carried what the map holds");
            assertEquals(0, ring.consume(codec, got::add));
        }
    }

    @Test
    void perfBufferDeliversTypedRecordsDespiteItsPaddedPayloads() {
        codec.update(obj.map("input"), 0, TypedEventsTest.INPUT);
        try (PerfBuffer perf = PerfBuffer.of(obj.map("perf_events"), PerfOptions.defaults())) {
            run(2);
            List<NetEvent> got = new ArrayList<>();
            assertEquals(2, perf.consume(codec, got::add));
            got.forEach(TypedBuffersTest::assertDerivedFromInput);
            assertEquals(got.get(1), codec.lookup(obj.map("last"), 0));
        }
    }

    @Test
    void orderedPerfBufferDeliversTypedRecordsInTimestampOrder() {
        codec.update(obj.map("input"), 0, TypedEventsTest.INPUT);
        try (OrderedPerfBuffer ordered = OrderedPerfBuffer.of(obj.map("perf_events"), PerfOptions.defaults())) {
            run(3);
            List<NetEvent> got = new ArrayList<>();
            assertEquals(3, ordered.flush(codec, got::add));
            got.forEach(TypedBuffersTest::assertDerivedFromInput);
            assertTrue(got.get(0).ts() < got.get(1).ts() && got.get(1).ts() < got.get(2).ts(), "in order");
            run(1);
            assertEquals(1, ordered.poll(codec, got::add, Duration.ofSeconds(5)) + ordered.flush(codec, got::add));
            assertEquals(got.get(3), codec.lookup(obj.map("last"), 0));
            StructCodec<Unproven> unproven = StructCodec.of(Unproven.class);
            assertThrows(IllegalStateException.class, () -> ordered.flush(unproven, x -> true));
        }
    }

    @Test
    void typedMapUpdateAndLookupRoundTripAndRefuseTheWrongValueSize() {
        // A fresh array holds zeros, and 0 is no event_kind: decoding says so instead of inventing a constant.
        String zero = assertThrows(IllegalArgumentException.class, () -> codec.lookup(obj.map("input"), 0))
                .getMessage();
        assertTrue(zero.contains("'kind': value 0 has no constant in Kind"), zero);
        codec.update(obj.map("input"), 0, TypedEventsTest.INPUT);
        assertEquals(TypedEventsTest.INPUT, codec.lookup(obj.map("input"), 0));
        assertNull(codec.lookup(obj.map("input"), 1), "an ARRAY map has no key 1");
        String msg = assertThrows(IllegalArgumentException.class,
                () -> StructCodec.of(Header.class).lookup(obj.map("input"), 0)).getMessage();
        assertTrue(msg.contains("72-byte values") && msg.contains("Header has 16 bytes"), msg);
    }
}
