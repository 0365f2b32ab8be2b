package dev.panbpf.event;

import dev.panbpf.event.StructShape.Field;
import dev.panbpf.event.TestStructs.*;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Proves the derived layouts are gcc's: the C structs below are written by hand the way a BPF program would
 * declare them; a probe compiled with gcc prints their sizeof/alignof/offsetof and the bytes of one filled
 * instance of each, and the Java side must agree on every offset and decode and re-encode those exact bytes.
 */
class GccLayoutTest {

    private static final String C = """
            #include <stdio.h>
            #include <stddef.h>
            #include <string.h>
            #include <linux/types.h>

            struct mixed { __s8 a; __s64 b; __s16 c; __s32 d; _Bool e; __u16 f; double g; float h; };
            struct with_arrays { __s8 kind; char comm[16]; __s32 args[3]; __s16 tail; __u8 raw[5]; };
            struct inner { __s32 x; __s64 y; };
            struct outer { __s8 tag; struct inner inner; __s8 after; };
            struct tiny { __s8 a; __s16 b; __s8 c; };
            struct two_tiny { struct tiny first; struct tiny second; __s16 s; };
            struct padded { __s32 a; __u8 pad1[4]; __s32 b; __s8 c; __u8 pad2[8]; };
            enum color { RED, GREEN, BLUE };
            struct unsigneds { __u8 u8; __u16 u16; __u32 u32; __u64 u64; __u32 raw_u32; enum color color; __u8 state; };
            struct tail { __s64 a; __s8 b; };
            struct floats { float f[3]; double d[2]; __u16 c[2]; __s16 s[3]; __s64 l[2]; _Bool z[2]; };

            #define S(T) printf("S %s %zu %zu\\n", #T, sizeof(struct T), _Alignof(struct T))
            #define M(T, m) printf("M %s.%s %zu %zu\\n", #T, #m, offsetof(struct T, m), sizeof(((struct T *)0)->m))
            static void dump(const char *name, const void *p, size_t n) {
                printf("D %s ", name);
                for (size_t i = 0; i < n; i++) printf("%02x", ((const unsigned char *)p)[i]);
                printf("\\n");
            }
            #define D(T, v) dump(#T, &v, sizeof v)

            int main(void) {
                S(mixed); M(mixed, a); M(mixed, b); M(mixed, c); M(mixed, d); M(mixed, e); M(mixed, f);
                M(mixed, g); M(mixed, h);
                S(with_arrays); M(with_arrays, kind); M(with_arrays, comm); M(with_arrays, args);
                M(with_arrays, tail); M(with_arrays, raw);
                S(outer); M(outer, tag); M(outer, inner); M(outer, after);
                S(inner); M(inner, x); M(inner, y);
                S(two_tiny); M(two_tiny, first); M(two_tiny, second); M(two_tiny, s);
                S(tiny); M(tiny, a); M(tiny, b); M(tiny, c);
                S(padded); M(padded, a); M(padded, b); M(padded, c);
                S(unsigneds); M(unsigneds, u8); M(unsigneds, u16); M(unsigneds, u32); M(unsigneds, u64);
                M(unsigneds, raw_u32); M(unsigneds, color); M(unsigneds, state);
                S(tail); M(tail, a); M(tail, b);
                S(floats); M(floats, f); M(floats, d); M(floats, c); M(floats, s); M(floats, l); M(floats, z);

                struct mixed m; memset(&m, 0, sizeof m);
                m.a = -5; m.b = -1234567890123LL; m.c = -300; m.d = 0x12345678; m.e = 1; m.f = 0xBEEF;
                m.g = 3.25; m.h = -1.5f;
                D(mixed, m);
                struct with_arrays w; memset(&w, 0, sizeof w);
                w.kind = 9; strcpy(w.comm, "java-agent"); w.args[0] = -1; w.args[1] = 2; w.args[2] = 3;
                w.tail = 77; w.raw[0] = 0xff; w.raw[4] = 0x80;
                D(with_arrays, w);
                struct outer o; memset(&o, 0, sizeof o);
                o.tag = 1; o.inner.x = -2; o.inner.y = 1LL << 40; o.after = 3;
                D(outer, o);
                struct two_tiny t; memset(&t, 0, sizeof t);
                t.first.a = 1; t.first.b = 2; t.first.c = 3; t.second.a = 4; t.second.b = 5; t.second.c = 6; t.s = 7;
                D(two_tiny, t);
                struct padded p; memset(&p, 0, sizeof p);
                p.a = 10; p.b = 20; p.c = 30;
                D(padded, p);
                struct unsigneds u; memset(&u, 0, sizeof u);
                u.u8 = 250; u.u16 = 65000; u.u32 = 4000000000U; u.u64 = 18000000000000000000ULL;
                u.raw_u32 = 0xFFFFFFF0U; u.color = BLUE; u.state = 200;
                D(unsigneds, u);
                struct floats f; memset(&f, 0, sizeof f);
                f.f[0] = 1.5f; f.f[2] = -2; f.d[1] = 1e100; f.c[0] = 'J'; f.c[1] = 0xFFFF; f.s[1] = -9;
                f.l[0] = -1; f.l[1] = 42; f.z[1] = 1;
                D(floats, f);
                return 0;
            }
            """;

    private static final Map<String, long[]> sizes = new LinkedHashMap<>();
    private static final Map<String, long[]> members = new LinkedHashMap<>();
    private static final Map<String, byte[]> dumps = new LinkedHashMap<>();

    @BeforeAll
    static void runProbe() throws Exception {
        for (String line : GccProbe.run(C, "-Wall", "-Werror").split("\n")) {
            String[] p = line.split(" ");
            switch (p[0]) {
                case "S" -> sizes.put(p[1], new long[]{Long.parseLong(p[2]), Long.parseLong(p[3])});
                case "M" -> members.put(p[1], new long[]{Long.parseLong(p[2]), Long.parseLong(p[3])});
                case "D" -> dumps.put(p[1], HexFormat.of().parseHex(p[2]));
                default -> fail("unexpected probe line " + line);
            }
        }
    }

    private static final Map<Class<?>, String> C_NAMES = Map.of(
            Mixed.class, "mixed", WithArrays.class, "with_arrays", Outer.class, "outer", Inner.class, "inner",
            TwoTiny.class, "two_tiny", Tiny.class, "tiny", Padded.class, "padded", Unsigneds.class, "unsigneds",
            Tail.class, "tail", TestStructs.Floats.class, "floats");

    @Test
    void everyDerivedOffsetSizeAndAlignmentIsGccs() {
        List<String> problems = new ArrayList<>();
        int checked = 0;
        for (var e : C_NAMES.entrySet()) {
            StructShape s = StructShape.of(e.getKey());
            String c = e.getValue();
            long[] sz = sizes.get(c);
            if (sz[0] != s.size() || sz[1] != s.align()) {
                problems.add(c + ": gcc size " + sz[0] + " align " + sz[1] + ", Java " + s.size() + " " + s.align());
            }
            for (Field f : s.fields()) {
                long[] m = members.get(c + "." + snake(f.name()));
                assertNotNull(m, "probe has no member " + c + "." + snake(f.name()));
                if (m[0] != f.offset() || m[1] != f.size()) {
                    problems.add(c + "." + f.name() + ": gcc offset " + m[0] + " size " + m[1] + ", Java "
                            + f.offset() + " " + f.size());
                }
                checked++;
            }
            assertEquals(s.size(), StructCodec.of(e.getKey().asSubclass(Record.class)).layout().byteSize(), "FFM layout size of " + c);
        }
        assertTrue(problems.isEmpty(), String.join("\n", problems));
        assertEquals(members.size(), checked, "every member the probe printed is checked");
    }

    private static String snake(String camel) {
        return camel.replaceAll("([A-Z])", "_$1").toLowerCase();
    }

    @Test
    void decodesWhatGccWroteAndEncodesTheSameBytes() {
        Map<String, Record> expected = new LinkedHashMap<>();
        expected.put("mixed", new Mixed((byte) -5, -1234567890123L, (short) -300, 0x12345678, true, (char) 0xBEEF,
                3.25, -1.5f));
        expected.put("outer", new Outer((byte) 1, new Inner(-2, 1L << 40), (byte) 3));
        expected.put("two_tiny", new TwoTiny(new Tiny((byte) 1, (short) 2, (byte) 3),
                new Tiny((byte) 4, (short) 5, (byte) 6), (short) 7));
        expected.put("padded", new Padded(10, 20, (byte) 30));
        expected.put("unsigneds", new Unsigneds(250, 65000, 4_000_000_000L, Long.parseUnsignedLong(
                "18000000000000000000"), 0xFFFFFFF0, Color.BLUE, State.DONE));
        for (var e : expected.entrySet()) {
            roundTrip(e.getKey(), e.getValue());
        }
        WithArrays w = roundTrip("with_arrays", new WithArrays((byte) 9, "java-agent", new int[]{-1, 2, 3},
                (short) 77, new byte[]{(byte) 0xff, 0, 0, 0, (byte) 0x80}));
        assertEquals("java-agent", w.comm());
        assertArrayEquals(new int[]{-1, 2, 3}, w.args());
        TestStructs.Floats f = roundTrip("floats", new TestStructs.Floats(new float[]{1.5f, 0, -2},
                new double[]{0, 1e100}, new char[]{'J', 0xFFFF}, new short[]{0, -9, 0}, new long[]{-1, 42},
                new boolean[]{false, true}));
        assertArrayEquals(new double[]{0, 1e100}, f.d());
        assertArrayEquals(new boolean[]{false, true}, f.z());
    }

    @SuppressWarnings("unchecked")
    private static <R extends Record> R roundTrip(String c, R expected) {
        StructCodec<R> codec = StructCodec.of((Class<R>) expected.getClass());
        byte[] gcc = dumps.get(c);
        try (Arena a = Arena.ofConfined()) {
            // Decode from an odd address as well: perf samples put payloads at 4-byte offsets.
            MemorySegment s = a.allocate(gcc.length + 3);
            MemorySegment.copy(gcc, 0, s, ValueLayout.JAVA_BYTE, 3, gcc.length);
            R decoded = codec.decode(s, 3);
            if (!hasArrays(expected)) {
                assertEquals(expected, decoded, c);
            }
            MemorySegment out = codec.encode(decoded, a);
            assertArrayEquals(gcc, out.toArray(ValueLayout.JAVA_BYTE), c + ": re-encoded bytes differ from gcc's");
            MemorySegment out2 = codec.encode(expected, a);
            assertArrayEquals(gcc, out2.toArray(ValueLayout.JAVA_BYTE), c + ": encoded bytes differ from gcc's");
            return decoded;
        }
    }

    private static boolean hasArrays(Record r) {
        for (var rc : r.getClass().getRecordComponents()) {
            if (rc.getType().isArray()) {
                return true;
            }
        }
        return false;
    }
}
