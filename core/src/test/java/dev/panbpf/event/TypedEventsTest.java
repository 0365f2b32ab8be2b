package dev.panbpf.event;

import dev.panbpf.BpfException;
import dev.panbpf.BpfObject;
import dev.panbpf.bpf.BpfPrograms;
import dev.panbpf.event.EventStructs.*;
import dev.panbpf.testing.Kernel;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Records checked against the BTF of bpf-src's typed_events.bpf.o and decoded from the events its XDP program
 * writes under BPF_PROG_TEST_RUN.
 */
class TypedEventsTest {
    private BpfObject obj;

    @BeforeEach
    void open() {
        obj = BpfObject.open(BpfPrograms.bytes("typed_events.bpf.o"), "typed_events");
    }

    @AfterEach
    void close() {
        obj.close();
    }

    static final NetEvent INPUT = new NetEvent(0, 0xFFFF_FFF0L, "java-agent", 0x41, 65534,
            new Endpoint(0xC0A8_0001L, 443, 6), new Endpoint(0, 0, 0), Kind.EXEC, -5, Long.MIN_VALUE + 10, (byte) -128);

    /** Writes {@code in} into map input, runs the program once and returns what it stored in map last. */
    static MemorySegment runOnce(BpfObject obj, NetEvent in, Arena a) {
        StructCodec<NetEvent> codec = StructCodec.of(NetEvent.class);
        MemorySegment key = a.allocateFrom(ValueLayout.JAVA_INT, 0);
        obj.map("input").update(key, codec.encode(in, a));
        assertEquals(2, obj.program("emit").testRun(new byte[64], 1).retval(), "XDP_PASS: the ring took the event");
        MemorySegment out = a.allocate(codec.byteSize());
        assertTrue(obj.map("last").lookup(key, out));
        return out;
    }

    @Test
    void matchingRecordPassesAndDecodesTheEventTheProgramWrote() {
        Kernel.requireRoot();
        StructCodec<NetEvent> codec = StructCodec.of(NetEvent.class).verify(obj, "net_event");
        assertEquals(72, codec.byteSize());
        obj.load();
        try (Arena a = Arena.ofConfined()) {
            NetEvent e = codec.decode(runOnce(obj, INPUT, a));
            assertTrue(e.ts() > 0, "bpf_ktime_get_ns");
            assertEquals(0xFFFF_FFF1L, e.pid(), "a __u32 above 2^31 reads as its C value");
            assertEquals("java-agent", e.comm());
            assertEquals(0xC1, e.flags(), "a __u8 above 127 reads as its C value");
            assertEquals(65534, e.sport());
            assertEquals(new Endpoint(0xC0A8_0001L, 443, 6), e.src());
            assertEquals(new Endpoint(0xC0A8_0001L, 444, 17), e.dst());
            assertEquals(Kind.EXEC, e.kind());
            assertEquals(5, e.delta());
            assertEquals(Long.MIN_VALUE + 10 + 64, e.bytes(), "a __u64 above 2^63 keeps its bits");
            assertEquals(127, e.level(), "-128 - 1 wraps in a __s8");
        }
    }

    @Test
    void charArraysAndUnsignedValuesRoundTripThroughTheKernel() {
        Kernel.requireRoot();
        obj.load();
        StructCodec<NetEvent> codec = StructCodec.of(NetEvent.class);
        try (Arena a = Arena.ofConfined()) {
            // A name that fills the whole array (no NUL), UTF-8, maximal unsigned values.
            NetEvent in = new NetEvent(0, 0xFFFF_FFFEL, "0123456789abcdef", 0x7F, 65535,
                    new Endpoint(0xFFFF_FFFFL, 65535, 255), new Endpoint(1, 2, 3), Kind.OPEN, Integer.MIN_VALUE + 1,
                    -2L, (byte) 0);
            NetEvent out = codec.decode(runOnce(obj, in, a));
            assertEquals("0123456789abcdef", out.comm());
            assertEquals(0xFFFF_FFFFL, out.pid());
            assertEquals(0xFF, out.flags());
            assertEquals(65535, out.sport());
            assertEquals(new Endpoint(0xFFFF_FFFFL, 65535, 255), out.src());
            assertEquals(new Endpoint(0xFFFF_FFFFL, 0, 17), out.dst(), "port + 1 wraps in a __u16");
            assertEquals(Integer.MAX_VALUE, out.delta());
            assertEquals(62, out.bytes(), "2^64 - 2 + 64 wraps");

            NetEvent utf8 = codec.decode(runOnce(obj, new NetEvent(0, 1, "grüß-gott", 0, 0, in.src(), in.dst(),
                    Kind.CLOSE, 0, 0, (byte) 0), a));
            assertEquals("grüß-gott", utf8.comm());
            assertEquals(Kind.CLOSE, utf8.kind());
        }
    }

    @Test
    void rawRecordOfTheSameLayoutPassesAndSeesTheSameBytes() {
        Kernel.requireRoot();
        StructCodec<NetEventRaw> raw = StructCodec.of(NetEventRaw.class).verify(obj, "net_event");
        obj.load();
        try (Arena a = Arena.ofConfined()) {
            NetEventRaw r = raw.decode(runOnce(obj, INPUT, a));
            assertEquals(0xFFFF_FFF1, r.pid());
            assertEquals((byte) 0xC1, r.flags());
            assertEquals('j', r.comm()[0]);
            assertEquals(0, r.comm()[10]);
            assertEquals(7, r.kind());
        }
    }

    @Test
    void declaredPaddingPassesAndReadsTheFieldsAroundIt() {
        Kernel.requireRoot();
        StructCodec<Header> h = StructCodec.of(Header.class).verify(obj, "header");
        StructCodec<HeaderWithReserved> r = StructCodec.of(HeaderWithReserved.class).verify(obj, "header");
        obj.load();
        try (Arena a = Arena.ofConfined()) {
            runOnce(obj, INPUT, a);
            MemorySegment v = a.allocate(16);
            assertTrue(obj.map("headers").lookup(a.allocateFrom(ValueLayout.JAVA_INT, 0), v));
            assertEquals(new Header(0xFEED_BEEFL, 72, (short) 3), h.decode(v));
            assertArrayEquals(new byte[]{1, 2, 3, 4}, r.decode(v).reserved());
        }
    }

    private StructMismatchException mismatch(Class<? extends Record> type, String struct) {
        StructMismatchException e = assertThrows(StructMismatchException.class,
                () -> StructCodec.of(type).verify(obj, struct));
        assertFalse(e.differences().isEmpty());
        for (String d : e.differences()) {
            assertTrue(e.getMessage().contains(d), "the message lists every difference");
        }
        return e;
    }

    private static String find(List<String> differences, String start) {
        return differences.stream().filter(d -> d.startsWith(start)).findFirst()
                .orElseGet(() -> fail("no difference starting with \"" + start + "\" in " + differences));
    }

    @Test
    void reorderedFieldsFailNamingBothFields() {
        List<String> d = mismatch(Reordered.class, "net_event").differences();
        assertEquals("field 'comm': C offset 12 size 16 (char[16]), Java offset 8 size 16 (String[16])",
                find(d, "field 'comm'"));
        assertEquals("field 'pid': C offset 8 size 4 (__u32), Java offset 24 size 4 (@Unsigned(4) long)",
                find(d, "field 'pid'"));
        assertEquals(2, d.size(), d::toString);
    }

    @Test
    void tooNarrowFieldFailsNamingTheFieldWithBothSizes() {
        List<String> d = mismatch(TooNarrow.class, "net_event").differences();
        assertEquals("field 'bytes': C offset 56 size 8 (__u64), Java offset 56 size 4 (int)", find(d, "field 'bytes'"));
        assertEquals("field 'level': C offset 64 size 1 (__s8), Java offset 60 size 1 (byte)", find(d, "field 'level'"));
        find(d, "size of struct net_event: C 72 bytes, Java 64 bytes");
    }

    @Test
    void missingFieldFailsNamingTheCMember() {
        List<String> d = mismatch(MissingField.class, "net_event").differences();
        assertEquals(List.of("C member 'delta' (C offset 52 size 4, __s32) has no Java component: add one, or declare "
                + "its bytes with @Padding"), d);
    }

    @Test
    void missingPaddingFailsNamingTheShiftedFieldAndThePaddingMember() {
        List<String> d = mismatch(HeaderNoPadding.class, "header").differences();
        find(d, "field 'len': C offset 8 size 4 (__u32), Java offset 4 size 4");
        find(d, "field 'version': C offset 12 size 2 (volatile __u16)");
        find(d, "C member 'reserved' (C offset 4 size 4, __u8[4]) has no Java component");
        find(d, "size of struct header: C 16 bytes, Java 12 bytes");
    }

    @Test
    void nestedMismatchesAndExtraComponentsAreNamedByPath() {
        List<String> d = mismatch(NestedWrong.class, "net_event").differences();
        find(d, "field 'src.port': C offset 4 size 2 (__u16), Java offset 4 size 1 (byte)");
        find(d, "field 'extra': struct net_event has no member 'extra'");
        find(d, "field 'src.proto': C offset 6 size 1 (__u8), Java offset 5 size 1");
        assertEquals(3, d.size(), d::toString);
    }

    @Test
    void incompatibleKindFailsEvenAtTheRightOffsetAndSize() {
        List<String> d = mismatch(HeaderWrongKind.class, "header").differences();
        assertEquals(List.of("field 'magic': C type __u32 (unsigned integer) cannot be read as Java float at "
                + "offset 0"), d);
    }

    @Test
    void bitfieldsAreRefusedAsUnsupportedNamingTheMember() {
        List<String> d = mismatch(WithBits.class, "with_bits").differences();
        String low = find(d, "field 'low'");
        assertTrue(low.contains("bitfield") && low.contains("unsupported"), low);
        BpfException e = assertThrows(BpfException.class, () -> RecordSource.generate(obj, "with_bits"));
        assertTrue(e.getMessage().contains("'low'") && e.getMessage().contains("unsupported"), e.getMessage());
    }

    @Test
    void unknownStructNamesTheStructsThereAre() {
        BpfException e = assertThrows(BpfException.class, () -> StructCodec.of(NetEvent.class).verify(obj, "nope"));
        assertTrue(e.getMessage().contains("no struct 'nope'") && e.getMessage().contains("net_event")
                && e.getMessage().contains("endpoint"), e.getMessage());
        assertFalse(e instanceof StructMismatchException);
    }
}
