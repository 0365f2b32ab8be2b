package dev.panbpf.bindings;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.lang.foreign.*;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.*;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Proves every binding against the real C headers: walks all classes of dev.panbpf.bindings, writes a C probe that
 * prints sizeof/offsetof of every struct member, the value and width of every constant, and the parameter sizes of
 * every function (after a static assertion that the prototype we recorded is the header's), compiles it with gcc
 * and compares each line with the Java side.
 */
class LayoutProofTest {

    private static final List<String> INCLUDES = List.of(
            "stddef.h", "stdint.h", "stdio.h", "string.h", "errno.h", "unistd.h", "sys/syscall.h", "sys/mman.h",
            "sys/ioctl.h", "sys/epoll.h", "sys/eventfd.h", "sched.h", "linux/bpf.h", "linux/btf.h",
            "linux/perf_event.h", "bpf/libbpf.h", "bpf/btf.h", "bpf/libbpf_version.h");

    private static List<Class<?>> classes;
    private static final StringBuilder probe = new StringBuilder();
    private static final StringBuilder probeMain = new StringBuilder();
    /** Expected values, by probe key. */
    private static final Map<String, Long> expected = new LinkedHashMap<>();

    @BeforeAll
    static void listBindings() throws Exception {
        Path dir = Path.of(bpf_h.class.getProtectionDomain().getCodeSource().getLocation().toURI())
                .resolve("dev/panbpf/bindings");
        try (Stream<Path> files = Files.list(dir)) {
            classes = new ArrayList<>();
            for (Path p : files.sorted().toList()) {
                String f = p.getFileName().toString();
                if (f.endsWith(".class") && !f.contains("$")) {
                    classes.add(Class.forName("dev.panbpf.bindings." + f.replace(".class", "")));
                }
            }
        }
    }

    @Test
    void everyBindingMatchesTheCHeaders() throws Exception {
        for (Class<?> c : classes) {
            if (c.getSimpleName().endsWith("_h")) {
                constants(c);
                functions(c);
            } else if (hasLayout(c)) {
                struct(c);
            }
        }
        assertTrue(expected.size() > 300, "the probe should cover hundreds of items, covered " + expected.size());
        Map<String, Long> actual = runProbe();
        List<String> problems = new ArrayList<>();
        for (var e : expected.entrySet()) {
            Long c = actual.get(e.getKey());
            if (c == null) {
                problems.add(e.getKey() + ": not printed by the C probe");
            } else if (!c.equals(e.getValue())) {
                problems.add(e.getKey() + ": C says " + c + ", Java says " + e.getValue());
            }
        }
        assertTrue(problems.isEmpty(), "bindings differ from the C headers:\n  " + String.join("\n  ", problems));
    }

    @Test
    void accessorOffsetsAgreeWithTheirLayouts() throws Exception {
        List<String> problems = new ArrayList<>();
        for (Class<?> c : classes) {
            if (hasLayout(c)) {
                checkAccessors(c, problems);
            }
        }
        assertTrue(problems.isEmpty(), String.join("\n", problems));
    }

    @Test
    void everyFunctionResolvesInItsLibrary() throws Exception {
        int n = 0;
        for (Class<?> c : classes) {
            for (Method m : c.getDeclaredMethods()) {
                if (m.getName().endsWith("$address") && Modifier.isPublic(m.getModifiers())) {
                    MemorySegment addr = (MemorySegment) m.invoke(null);
                    assertNotEquals(0L, addr.address(), m.getName());
                    n++;
                }
            }
        }
        assertTrue(n > 40, "expected every bound function to be checked, saw " + n);
    }

    // ------------------------------------------------------------------------------------------------ structs

    private static boolean hasLayout(Class<?> c) {
        try {
            return GroupLayout.class.isAssignableFrom(c.getDeclaredMethod("layout").getReturnType());
        } catch (NoSuchMethodException e) {
            return false;
        }
    }

    private static String cType(Class<?> c, GroupLayout g) {
        String n = c.getSimpleName();
        if (n.endsWith("_t")) {
            return n;
        }
        return (g instanceof UnionLayout ? "union " : "struct ") + n;
    }

    private static void struct(Class<?> c) throws Exception {
        GroupLayout g = (GroupLayout) c.getDeclaredMethod("layout").invoke(null);
        String t = cType(c, g);
        String cls = c.getSimpleName();
        emit("sizeof " + cls, g.byteSize(), "sizeof(" + t + ")");
        members(c, g, t, "", 0, cls);
    }

    private static void members(Class<?> c, GroupLayout g, String t, String prefix, long base, String key)
            throws Exception {
        for (MemoryLayout m : g.memberLayouts()) {
            if (m instanceof PaddingLayout || m.name().isEmpty()) {
                continue;
            }
            long off = base + g.byteOffset(MemoryLayout.PathElement.groupElement(m.name().get()));
            String name = m.name().get();
            if (name.startsWith("$")) {          // an anonymous C struct or union: its members belong to the parent
                members(c, (GroupLayout) m, t, prefix, off, key);
                continue;
            }
            String path = prefix + name;
            Class<?> bits = nested(c, name + "$bits");
            if (bits != null) {
                bitfields(t, key + "." + path, off, bits);
                continue;
            }
            emit("offsetof " + key + "." + path, off, "offsetof(" + t + ", " + path + ")");
            emit("sizeof " + key + "." + path, m.byteSize(), "sizeof(((" + t + " *)0)->" + path + ")");
            if (m instanceof GroupLayout inner) {
                members(c, inner, t, path + ".", off, key);
            }
        }
    }

    private static Class<?> nested(Class<?> c, String simpleName) {
        for (Class<?> n : c.getDeclaredClasses()) {
            if (n.getSimpleName().equals(simpleName)) {
                return n;
            }
        }
        return null;
    }

    /** A u64 member standing for C bitfields: each bit must be where C puts that bitfield. */
    private static void bitfields(String t, String key, long off, Class<?> bits) throws Exception {
        for (Method b : bits.getDeclaredMethods()) {
            if (!Modifier.isStatic(b.getModifiers()) || b.getParameterCount() != 0) {
                continue;
            }
            long bit = off * 8 + (int) b.invoke(null);
            String fn = "bit_" + key.replace('.', '_') + "_" + b.getName();
            probe.append("static long long ").append(fn).append("(void) { ").append(t)
                    .append(" s; unsigned char *p = (unsigned char *)&s; memset(&s, 0, sizeof s); s.")
                    .append(b.getName()).append(" = 1; for (size_t i = 0; i < sizeof s; i++) if (p[i]) ")
                    .append("return (long long)(i * 8 + __builtin_ctz(p[i])); return -1; }\n");
            emit("bitfield " + key + "." + b.getName(), bit, fn + "()");
        }
    }

    private static void checkAccessors(Class<?> c, List<String> problems) throws Exception {
        GroupLayout g = (GroupLayout) c.getDeclaredMethod("layout").invoke(null);
        for (Method m : c.getDeclaredMethods()) {
            if (!m.getName().endsWith("$offset")) {
                continue;
            }
            String field = m.getName().substring(0, m.getName().length() - "$offset".length());
            OptionalLong real = find(g, field, 0);
            long declared = (long) m.invoke(null);
            if (real.isEmpty() || real.getAsLong() != declared) {
                problems.add(c.getName() + "." + field + ": accessor offset " + declared + ", layout offset " + real);
            }
        }
        for (Class<?> n : c.getDeclaredClasses()) {
            if (hasLayout(n)) {
                checkAccessors(n, problems);
            }
        }
    }

    private static OptionalLong find(GroupLayout g, String name, long base) {
        for (MemoryLayout m : g.memberLayouts()) {
            if (m.name().isEmpty()) {
                continue;
            }
            long off = base + g.byteOffset(MemoryLayout.PathElement.groupElement(m.name().get()));
            if (m.name().get().equals(name)) {
                return OptionalLong.of(off);
            }
            if (m.name().get().startsWith("$") && m instanceof GroupLayout inner) {
                OptionalLong r = find(inner, name, off);
                if (r.isPresent()) {
                    return r;
                }
            }
        }
        return OptionalLong.empty();
    }

    // --------------------------------------------------------------------------------------------- constants

    private static void constants(Class<?> c) throws Exception {
        for (Method m : c.getDeclaredMethods()) {
            Class<?> r = m.getReturnType();
            if (!Modifier.isPublic(m.getModifiers()) || m.getParameterCount() != 0
                    || (r != int.class && r != long.class) || isFunction(c, m.getName())) {
                continue;
            }
            String n = m.getName();
            long v = r == int.class ? (int) m.invoke(null) : (long) m.invoke(null);
            emit("value " + n, v, "(long long)(" + (r == int.class ? "int" : "long long") + ")(" + n + ")");
            emit("width " + n, r == int.class ? 4 : 8, "sizeof(" + n + ")");
        }
    }

    private static boolean isFunction(Class<?> c, String name) {
        try {
            c.getDeclaredMethod(name + "$handle");
            return true;
        } catch (NoSuchMethodException e) {
            return false;
        }
    }

    // --------------------------------------------------------------------------------------------- functions

    private static final Pattern PROTO = Pattern.compile(
            "\\{@snippet lang=c :\\s*\\n\\s*\\*\\s*(.+?)\\n\\s*\\*\\s*}\\s*\\n(?:[^\\n]*\\n)*?\\s*public static "
                    + "(?:class (\\w+)|[\\w.]+ (\\w+)\\()");

    private static void functions(Class<?> c) throws Exception {
        Path src = Path.of("src/main/java/dev/panbpf/bindings/" + c.getSimpleName() + ".java");
        Assumptions.assumeTrue(Files.exists(src), "binding sources not found from " + Path.of("").toAbsolutePath());
        String text = Files.readString(src);
        Matcher mt = PROTO.matcher(text);
        Set<String> seen = new HashSet<>();
        while (mt.find()) {
            String proto = mt.group(1).trim();
            String name = mt.group(2) != null ? mt.group(2) : mt.group(3);
            if (!proto.contains(name + "(")) {
                continue;      // a constant's snippet
            }
            FunctionDescriptor d = descriptor(c, name);
            function(name, proto, d);
            seen.add(name);
        }
        for (Method m : c.getDeclaredMethods()) {
            if (m.getName().endsWith("$descriptor")) {
                String n = m.getName().substring(0, m.getName().length() - "$descriptor".length());
                assertTrue(seen.contains(n), c.getSimpleName() + "." + n + " has no C prototype for the probe");
            }
        }
    }

    private static FunctionDescriptor descriptor(Class<?> c, String name) throws Exception {
        try {
            return (FunctionDescriptor) c.getDeclaredMethod(name + "$descriptor").invoke(null);
        } catch (NoSuchMethodException e) {
            return (FunctionDescriptor) nested(c, name).getDeclaredMethod("descriptor").invoke(null);
        }
    }

    private static void function(String name, String proto, FunctionDescriptor d) {
        int open = proto.indexOf(name + "(");
        String ret = proto.substring(0, open).trim();
        String params = proto.substring(open + name.length() + 1, proto.lastIndexOf(')')).trim();
        List<String> ps = new ArrayList<>();
        boolean variadic = false;
        if (!params.equals("void")) {
            for (String p : params.split(",")) {
                if (p.trim().equals("...")) {
                    variadic = true;
                } else {
                    ps.add(p.trim());
                }
            }
        }
        probe.append("typedef ").append(ret).append(" (*proto_").append(name).append(")(").append(params)
                .append(");\n_Static_assert(__builtin_types_compatible_p(__typeof__(&").append(name)
                .append("), proto_").append(name).append("), \"prototype of ").append(name).append("\");\n");
        probe.append("static void sizes_").append(name).append("(").append(params).append(") {\n");
        emitIn(probe, "return " + name, d.returnLayout().map(MemoryLayout::byteSize).orElse(0L),
                ret.equals("void") ? "0" : "sizeof(" + ret + ")");
        for (int i = 0; i < ps.size(); i++) {
            String pn = ps.get(i).replaceAll(".*?(\\w+)$", "$1");
            long javaSize = i < d.argumentLayouts().size() ? d.argumentLayouts().get(i).byteSize() : -1;
            emitIn(probe, "param " + name + "." + pn, javaSize, "sizeof(" + pn + ")");
        }
        emitIn(probe, "arity " + name, d.argumentLayouts().size(), Integer.toString(ps.size()));
        probe.append("}\n");
        probeMain.append("    sizes_").append(name).append("(").append(String.join(", ", Collections.nCopies(ps.size(), "0")))
                .append(");\n");
        assertFalse(variadic && d.argumentLayouts().size() != ps.size(), name);
    }

    // ------------------------------------------------------------------------------------------------- probe

    private static void emit(String key, long javaValue, String cExpr) {
        emitIn(probeMain, key, javaValue, cExpr);
    }

    private static void emitIn(StringBuilder sb, String key, long javaValue, String cExpr) {
        assertNull(expected.put(key, javaValue), "duplicate probe key " + key);
        sb.append("    printf(\"%s=%lld\\n\", \"").append(key).append("\", (long long)(").append(cExpr).append("));\n");
    }

    private static Map<String, Long> runProbe() throws IOException, InterruptedException, URISyntaxException {
        Assumptions.assumeTrue(new ProcessBuilder("gcc", "--version").start().waitFor() == 0
                || Boolean.getBoolean("panbpf.requireAll"), "gcc is needed to compile the layout probe");
        for (String h : List.of("linux/bpf.h", "bpf/libbpf.h")) {
            boolean present = Files.exists(Path.of("/usr/include", h));
            if (!present && Boolean.getBoolean("panbpf.requireAll")) {
                fail("/usr/include/" + h + " is missing: apt-get install libbpf-dev linux-libc-dev");
            }
            Assumptions.assumeTrue(present, "/usr/include/" + h + " missing: apt-get install libbpf-dev");
        }
        Path dir = Files.createTempDirectory("panbpf-probe");
        StringBuilder c = new StringBuilder("#define _GNU_SOURCE\n");
        INCLUDES.forEach(h -> c.append("#include <").append(h).append(">\n"));
        c.append("#pragma GCC diagnostic ignored \"-Wsizeof-array-argument\"\n");
        c.append(probe).append("int main(void) {\n").append(probeMain).append("    return 0;\n}\n");
        Path src = dir.resolve("probe.c");
        Files.writeString(src, c);
        Path exe = dir.resolve("probe");
        Process cc = new ProcessBuilder("gcc", "-std=gnu11", "-Wall", "-o", exe.toString(), src.toString())
                .redirectErrorStream(true).start();
        String ccOut = new String(cc.getInputStream().readAllBytes());
        assertTrue(cc.waitFor(120, TimeUnit.SECONDS), "gcc timed out");
        assertEquals(0, cc.exitValue(), "the C probe did not compile (" + src + "):\n" + ccOut);
        Process run = new ProcessBuilder(exe.toString()).start();
        String out = new String(run.getInputStream().readAllBytes());
        assertTrue(run.waitFor(30, TimeUnit.SECONDS));
        try (Stream<Path> files = Files.list(dir)) {
            for (Path f : files.toList()) {
                Files.delete(f);
            }
        }
        Files.delete(dir);
        Map<String, Long> actual = new HashMap<>();
        for (String line : out.split("\n")) {
            int eq = line.lastIndexOf('=');
            if (eq > 0) {
                actual.put(line.substring(0, eq), Long.parseLong(line.substring(eq + 1)));
            }
        }
        return actual;
    }
}
