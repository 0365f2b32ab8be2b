package dev.panbpf.event;

import dev.panbpf.event.TestStructs.*;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.ValueLayout;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** What a codec refuses, and how it treats values at the edges, on segments filled by hand. */
class StructCodecTest {

    record NoSize(@Size(0) byte[] a) { }

    record ArrayWithoutSize(int[] a) { }

    record SizeOnInt(@Size(4) int a) { }

    record TooWide(@Unsigned(8) int a) { }

    record OddWidth(@Unsigned(3) long a) { }

    record UnsignedFloat(@Unsigned float f) { }

    record Boxed(Integer a) { }

    record Empty() { }

    record SelfRef(int a, SelfRef next) { }

    enum Twins implements EnumValue {
        A, B;

        @Override
        public long value() {
            return 5;
        }
    }

    record HasTwins(Twins t) { }

    enum Huge implements EnumValue {
        BIG;

        @Override
        public long value() {
            return 300;
        }
    }

    record HugeInByte(@Unsigned(1) Huge h) { }

    record Small(@Unsigned(1) int u8, @Unsigned(2) short u16, @Size(4) String name, @Size(2) int[] pair,
                 Color color) { }

    private static String refusal(Class<? extends Record> type) {
        return assertThrows(IllegalArgumentException.class, () -> StructCodec.of(type)).getMessage();
    }

    @Test
    void refusesComponentsWithoutACLayoutNamingTheComponent() {
        assertTrue(refusal(NoSize.class).contains("component 'a'"));
        assertTrue(refusal(ArrayWithoutSize.class).contains("needs @Size(n)"));
        assertTrue(refusal(SizeOnInt.class).contains("@Size applies to arrays"));
        assertTrue(refusal(TooWide.class).contains("wider than int"));
        assertTrue(refusal(OddWidth.class).contains("must be 1, 2, 4 or 8"));
        assertTrue(refusal(UnsignedFloat.class).contains("not to a float"));
        assertTrue(refusal(Boxed.class).contains("java.lang.Integer has no C layout"));
        assertTrue(refusal(Empty.class).contains("has no components"));
        assertTrue(refusal(SelfRef.class).contains("contains itself"));
        assertTrue(refusal(HasTwins.class).contains("same value 5"));
        assertTrue(refusal(HugeInByte.class).contains("do not fit an unsigned 1-byte"));
    }

    @Test
    void encodingRefusesValuesTheCFieldCannotHold() {
        StructCodec<Small> c = StructCodec.of(Small.class);
        try (Arena a = Arena.ofConfined()) {
            MemorySegment s = a.allocate(c.byteSize());
            c.encode(new Small(255, (short) -1, "abcd", new int[]{1}, Color.RED), s);
            Small back = c.decode(s);
            assertEquals(255, back.u8());
            assertEquals((short) -1, back.u16(), "an @Unsigned(2) short keeps all 16 bits");
            assertEquals("abcd", back.name(), "a name filling the array has no NUL and still decodes");
            assertArrayEquals(new int[]{1, 0}, back.pair(), "a shorter array is zero-filled");
            assertThrows(IllegalArgumentException.class,
                    () -> c.encode(new Small(256, (short) 0, "", new int[0], Color.RED), s)).getMessage();
            String msg = assertThrows(IllegalArgumentException.class,
                    () -> c.encode(new Small(-1, (short) 0, "", new int[0], Color.RED), s)).getMessage();
            assertTrue(msg.contains("'u8' = -1") && msg.contains("0..255"), msg);
            msg = assertThrows(IllegalArgumentException.class,
                    () -> c.encode(new Small(0, (short) 0, "abcde", new int[0], Color.RED), s)).getMessage();
            assertTrue(msg.contains("'name' has 5 UTF-8 bytes"), msg);
            msg = assertThrows(IllegalArgumentException.class,
                    () -> c.encode(new Small(0, (short) 0, "", new int[3], Color.RED), s)).getMessage();
            assertTrue(msg.contains("'pair' has 3 elements"), msg);
            msg = assertThrows(NullPointerException.class,
                    () -> c.encode(new Small(0, (short) 0, null, new int[0], Color.RED), s)).getMessage();
            assertTrue(msg.contains("'name' is null"), msg);
            msg = assertThrows(NullPointerException.class,
                    () -> c.encode(new Small(0, (short) 0, "", new int[0], null), s)).getMessage();
            assertTrue(msg.contains("'color' is null"), msg);
        }
    }

    @Test
    void decodingAnUnknownEnumValueNamesTheFieldAndTheValue() {
        StructCodec<Unsigneds> c = StructCodec.of(Unsigneds.class);
        try (Arena a = Arena.ofConfined()) {
            MemorySegment s = a.allocate(c.byteSize());
            c.encode(new Unsigneds(0, 0, 0, 0, 0, Color.GREEN, State.RUNNING), s);
            assertEquals(State.RUNNING, c.decode(s).state());
            long stateOffset = c.layout().byteOffset(MemoryLayout.PathElement.groupElement("state"));
            s.set(ValueLayout.JAVA_BYTE, stateOffset, (byte) 8);
            String msg = assertThrows(IllegalArgumentException.class, () -> c.decode(s)).getMessage();
            assertTrue(msg.contains("'state'") && msg.contains("value 8") && msg.contains("State"), msg);
        }
    }

    @Test
    void refusesSegmentsShorterThanTheStruct() {
        StructCodec<Tail> c = StructCodec.of(Tail.class);
        try (Arena a = Arena.ofConfined()) {
            MemorySegment s = a.allocate(20);
            String msg = assertThrows(IllegalArgumentException.class, () -> c.decode(s, 8)).getMessage();
            assertTrue(msg.contains("needs 16 bytes at offset 8") && msg.contains("has 20 bytes"), msg);
            assertThrows(IllegalArgumentException.class, () -> c.encode(new Tail(1, (byte) 2), s, 5));
            assertThrows(IllegalArgumentException.class, () -> c.decode(s, -1));
        }
    }

    @Test
    void encodingZeroesPaddingLeftOverFromEarlierBytes() {
        StructCodec<Padded> c = StructCodec.of(Padded.class);
        try (Arena a = Arena.ofConfined()) {
            MemorySegment s = a.allocate(c.byteSize()).fill((byte) 0x5a);
            c.encode(new Padded(1, 2, (byte) 3), s);
            byte[] b = s.toArray(ValueLayout.JAVA_BYTE);
            for (int i : new int[]{4, 5, 6, 7, 13, 20, 23}) {
                assertEquals(0, b[i], "padding byte " + i);
            }
        }
    }

    @Test
    void layoutNamesEveryComponentAtItsOffset() {
        StructLayout l = StructCodec.of(Outer.class).layout();
        assertEquals(32, l.byteSize());
        assertEquals(8, l.byteAlignment());
        assertEquals(16, l.byteOffset(MemoryLayout.PathElement.groupElement("inner"),
                MemoryLayout.PathElement.groupElement("y")));
        assertEquals(List.of("tag", "inner", "after"), l.memberLayouts().stream()
                .flatMap(m -> m.name().stream()).toList());
        String d = StructCodec.of(Outer.class).describe();
        assertTrue(d.contains("} inner;   /* offset 8, size 16 */"), d);
    }

    @Test
    void codecsAreDerivedOncePerClass() {
        assertSame(StructCodec.of(Mixed.class), StructCodec.of(Mixed.class));
    }
}
