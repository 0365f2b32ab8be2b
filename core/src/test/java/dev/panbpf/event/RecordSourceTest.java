package dev.panbpf.event;

import dev.panbpf.BpfObject;
import dev.panbpf.bpf.BpfPrograms;
import dev.panbpf.testing.Kernel;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.lang.foreign.Arena;
import java.lang.reflect.RecordComponent;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The record source written from BTF compiles, passes verification against the same struct and decodes the
 * events the program writes.
 */
class RecordSourceTest {
    private BpfObject obj;
    private Path dir;

    @BeforeEach
    void open() throws Exception {
        obj = BpfObject.open(BpfPrograms.bytes("typed_events.bpf.o"), "typed_events");
        dir = Files.createTempDirectory("panbpf-records");
    }

    @AfterEach
    void close() throws Exception {
        obj.close();
        try (Stream<Path> files = Files.walk(dir)) {
            for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }

    /** Compiles {@code source} as {@code pkg.name} and loads the class. */
    private Class<? extends Record> compile(String pkg, String name, String source) throws Exception {
        Path src = dir.resolve(pkg.replace('.', '/')).resolve(name + ".java");
        Files.createDirectories(src.getParent());
        Files.writeString(src, source);
        // java.util.spi.ToolProvider (java.base): the test module need not read java.compiler.
        java.util.spi.ToolProvider javac = java.util.spi.ToolProvider.findFirst("javac").orElseThrow();
        String cp = Path.of(StructCodec.class.getProtectionDomain().getCodeSource().getLocation().toURI())
                .toString();
        StringWriter err = new StringWriter();
        int rc = javac.run(new PrintWriter(err), new PrintWriter(err), "--release", "22", "-Xlint:all", "-Werror", "-cp", cp, "-d",
                dir.resolve("classes").toString(), src.toString());
        assertEquals(0, rc, "generated source does not compile:\n" + err + "\n" + source);
        URLClassLoader loader = new URLClassLoader(new URL[]{dir.resolve("classes").toUri().toURL()},
                getClass().getClassLoader());
        return Class.forName(pkg.isEmpty() ? name : pkg + "." + name, true, loader).asSubclass(Record.class);
    }

    @Test
    void writesTheRecordOfANestedStructWithEnumsCharArraysAndUnsignedFields() {
        String s = RecordSource.generate(obj, "net_event", "gen.events");
        assertTrue(s.startsWith("package gen.events;\n"), s);
        assertTrue(s.contains("public record NetEvent("), s);
        assertTrue(s.contains("@Unsigned long ts,"), s);
        assertTrue(s.contains("@Unsigned(4) long pid,"), s);
        assertTrue(s.contains("@Size(16) String comm,"), s);
        assertTrue(s.contains("@Unsigned(1) int flags,"), s);
        assertTrue(s.contains("Endpoint src,") && s.contains("Endpoint dst,"), s);
        assertTrue(s.contains("EventKind kind,"), s);
        assertTrue(s.contains("int delta,") && s.contains("byte level"), s);
        assertTrue(s.contains("public record Endpoint("), s);
        assertTrue(s.contains("public enum EventKind implements EnumValue") && s.contains("EVENT_EXEC(7L)"), s);
        assertEquals(s.indexOf("public record Endpoint("), s.lastIndexOf("public record Endpoint("),
                "a struct used twice is written once");
    }

    @Test
    void generatedRecordCompilesVerifiesAndDecodesRealEvents() throws Exception {
        Kernel.requireRoot();
        Class<? extends Record> type = compile("gen.events", "NetEvent",
                RecordSource.generate(obj, "net_event", "gen.events"));
        StructCodec<? extends Record> codec = StructCodec.of(type).verify(obj, "net_event");
        obj.load();
        try (Arena a = Arena.ofConfined()) {
            Record e = codec.decode(TypedEventsTest.runOnce(obj, TypedEventsTest.INPUT, a));
            assertEquals(0xFFFF_FFF1L, component(e, "pid"));
            assertEquals("java-agent", component(e, "comm"));
            assertEquals(0xC1, component(e, "flags"));
            assertEquals("EVENT_EXEC", component(e, "kind").toString());
            Record dst = (Record) component(e, "dst");
            assertEquals(444, component(dst, "port"));
            assertEquals(17, component(dst, "proto"));
        }
    }

    @Test
    void reservedBytesBecomeAByteArrayThatVerifies() throws Exception {
        String s = RecordSource.generate(obj, "header");
        assertTrue(s.contains("@Size(4) byte[] reserved"), s);
        assertTrue(s.contains("volatile __u16 version"), "the comment shows the C type: " + s);
        StructCodec.of(compile("", "Header", s)).verify(obj, "header");
    }

    @Test
    void explicitPaddingIsWrittenWhereNaturalAlignmentDoesNotExplainAGap() throws Exception {
        String s = RecordSource.generate(obj, "odd_shapes", "gen.odd");
        assertTrue(s.contains("@Size(16) byte[] ipv6,"), "an anonymous union is read through its largest member: "
                + s);
        assertTrue(s.contains("@Padding(12) @Unsigned long stamp,"), s);
        Class<? extends Record> type = compile("gen.odd", "OddShapes", s);
        StructCodec<? extends Record> codec = StructCodec.of(type).verify(obj, "odd_shapes");
        assertEquals(48, codec.byteSize());
    }

    private static Object component(Record r, String name) throws Exception {
        for (RecordComponent c : r.getClass().getRecordComponents()) {
            if (c.getName().equals(name)) {
                return c.getAccessor().invoke(r);
            }
        }
        throw new AssertionError("no component " + name + " in " + r);
    }
}
