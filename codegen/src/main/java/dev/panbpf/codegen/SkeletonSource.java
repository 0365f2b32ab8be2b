package dev.panbpf.codegen;

import dev.panbpf.MapType;
import dev.panbpf.ObjectInfo;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * SkeletonSource writes the skeleton class of one BPF object: opening it from the resource beside the class,
 * checking the generated records and enums against BTF in {@code load()}, attaching every program whose section
 * names its attach point, and one accessor per map, program and global variable.
 */
final class SkeletonSource {
    /** Section prefixes after which libbpf knows the attach point by itself. */
    private static final List<String> AUTO_ATTACH = List.of("tp/", "tracepoint/", "raw_tp/", "raw_tracepoint/",
            "tp_btf/", "kprobe/", "kretprobe/", "ksyscall/", "kretsyscall/", "uprobe/", "uretprobe/", "usdt/",
            "fentry/", "fexit/", "fmod_ret/", "lsm/", "iter/");
    /** Member names of the skeleton itself and of java.lang.Object, which no accessor may take. */
    private static final List<String> RESERVED = List.of("open", "of", "adopt", "load", "attachAll", "object", "close", "verify",
            "write", "read", "hashCode", "equals", "toString", "getClass", "notify", "notifyAll", "wait", "clone",
            "finalize");

    private final ObjectInfo info;
    private final Names names;
    private final String pkg;
    private final String cls;
    private final String resource;
    private final String sha;
    private final String file;
    private final Map<String, String> records;
    private final Map<String, String> enums;
    private final List<String> warnings;
    private final StringBuilder members = new StringBuilder();
    private boolean rings;
    private boolean perfs;

    SkeletonSource(ObjectInfo info, Names names, String pkg, String cls, String resource, String sha, String file,
                   Map<String, String> records, Map<String, String> enums, List<String> warnings) {
        this.info = info;
        this.names = names;
        this.pkg = pkg;
        this.cls = cls;
        this.resource = resource;
        this.sha = sha;
        this.file = file;
        this.records = records;
        this.enums = enums;
        this.warnings = warnings;
        for (String r : RESERVED) {
            names.claim(r, "the skeleton's own method " + r + "()");
        }
    }

    String write() {
        for (ObjectInfo.MapInfo m : info.maps()) {
            if (m.section() == null) {
                map(m);
            }
        }
        for (ObjectInfo.ProgramInfo p : info.programs()) {
            program(p);
        }
        for (ObjectInfo.VariableInfo v : info.variables()) {
            // A function's static locals (such as bpf_printk's "func.____fmt") are no one's API.
            if (!v.name().startsWith(Generator.MACRO_PREFIX) && !v.name().contains(".")) {
                GlobalAccessors.write(members, names, v, warnings);
            }
        }
        StringBuilder b = new StringBuilder();
        if (!pkg.isEmpty()) {
            b.append("package ").append(pkg).append(";\n\n");
        }
        b.append("""
                import dev.panbpf.BpfException;
                import dev.panbpf.BpfLink;
                import dev.panbpf.BpfMap;
                import dev.panbpf.BpfObject;
                import dev.panbpf.BpfProgram;
                import dev.panbpf.event.EnumCheck;
                import dev.panbpf.event.EventHandler;
                import dev.panbpf.event.StructCodec;
                %PERF_IMPORTS%import dev.panbpf.ringbuf.RingBuffer;

                import java.io.IOException;
                import java.io.InputStream;
                import java.io.UncheckedIOException;
                import java.lang.foreign.Arena;
                import java.lang.foreign.MemorySegment;
                import java.lang.foreign.ValueLayout;
                import java.lang.invoke.MethodHandles;
                import java.nio.file.Path;
                import java.time.Duration;
                import java.util.ArrayList;
                import java.util.List;

                """);
        int perfImports = b.indexOf("%PERF_IMPORTS%");
        b.replace(perfImports, perfImports + "%PERF_IMPORTS%".length(),
                perfs ? "import dev.panbpf.perf.PerfBuffer;\nimport dev.panbpf.perf.PerfOptions;\n" : "");
        b.append("/**\n * ").append(cls).append(" is the typed skeleton of the BPF object {@code ").append(info.name())
                .append("} (").append(file).append("):\n * {@link #open()} it, set its read-only globals, {@link #load()}")
                .append(" it, {@link #attachAll()} its programs, use its maps,\n * then close it.\n */\n");
        b.append("@SuppressWarnings(\"unused\")\n");
        b.append("public final class ").append(cls).append(" implements AutoCloseable {\n");
        b.append("    /** The object's resource, relative to this class's package. */\n");
        b.append("    public static final String RESOURCE = \"").append(resource).append("\";\n");
        b.append("    /** The SHA-256 of the object this class was generated from. */\n");
        b.append("    public static final String SHA256 = \"").append(sha).append("\";\n\n");
        b.append("    private final BpfObject object;\n");
        for (var r : records.entrySet()) {
            b.append("    private final StructCodec<").append(r.getValue()).append("> ").append(codec(r.getKey()))
                    .append(" = StructCodec.of(").append(r.getValue()).append(".class, MethodHandles.lookup());\n");
        }
        b.append("\n    private ").append(cls).append("(BpfObject object) {\n        this.object = object;\n    }\n\n");
        b.append("    /** Opens the object from {@link #RESOURCE} beside this class; it is not loaded yet. */\n");
        b.append("    public static ").append(cls).append(" open() {\n");
        b.append("        try (InputStream in = ").append(cls).append(".class.getResourceAsStream(RESOURCE)) {\n");
        b.append("            if (in == null) {\n");
        b.append("                throw new BpfException(\"no resource \" + RESOURCE + \" beside \" + ").append(cls)
                .append(".class.getName()\n                        + \"; the build puts the object there\");\n");
        b.append("            }\n            return adopt(BpfObject.open(in.readAllBytes(), \"").append(file)
                .append("\"));\n");
        b.append("        } catch (IOException e) {\n            throw new UncheckedIOException(\"cannot read \" + RESOURCE, e);\n");
        b.append("        }\n    }\n\n");
        b.append("    /** Opens the object from {@code file}, which should be a build of the same C source. */\n");
        b.append("    public static ").append(cls).append(" open(Path file) {\n        return adopt(BpfObject.open(file));\n")
                .append("    }\n\n");
        b.append("    /** Wraps an object this class opened, closing it if the wrapping fails. */\n");
        b.append("    private static ").append(cls).append(" adopt(BpfObject object) {\n        try {\n            return new ")
                .append(cls).append("(object);\n        } catch (RuntimeException | Error e) {\n")
                .append("            object.close();\n            throw e;\n        }\n    }\n\n");
        b.append("    /**\n     * Wraps {@code object}, opened another way (such as from a resource of another module), not loaded yet;\n")
                .append("     * the caller keeps owning it until this returns.\n");
        b.append("     */\n    public static ").append(cls).append(" of(BpfObject object) {\n        return new ").append(cls)
                .append("(object);\n    }\n\n");
        b.append("    /** The underlying object, for what the skeleton does not type. */\n");
        b.append("    public BpfObject object() {\n        return object;\n    }\n\n");
        b.append("    /**\n     * Checks every generated record and enum against the object's BTF, then loads the object.\n");
        b.append("     *\n     * @throws dev.panbpf.event.StructMismatchException when the C source changed since generation\n");
        b.append("     */\n    public ").append(cls).append(" load() {\n");
        for (var r : records.entrySet()) {
            b.append("        ").append(codec(r.getKey())).append(".verify(object, \"").append(r.getKey()).append("\");\n");
        }
        for (var e : enums.entrySet()) {
            b.append("        EnumCheck.verify(object, \"").append(e.getKey()).append("\", ").append(e.getValue())
                    .append(".class);\n");
        }
        b.append("        object.load();\n        return this;\n    }\n\n");
        attachAll(b);
        b.append(members);
        b.append("    /** Closes the object: detaches its links and releases its maps and programs. */\n");
        b.append("    @Override\n    public void close() {\n        object.close();\n    }\n");
        b.append(Helpers.LINKS);
        if (rings) {
            b.append(Helpers.TYPED_RING);
        }
        if (perfs) {
            b.append(Helpers.TYPED_PERF);
        }
        b.append(Helpers.GLOBALS);
        return b.append("}\n").toString();
    }

    private void attachAll(StringBuilder b) {
        List<String> auto = new ArrayList<>();
        List<String> manual = new ArrayList<>();
        for (ObjectInfo.ProgramInfo p : info.programs()) {
            (AUTO_ATTACH.stream().anyMatch(a -> p.section().startsWith(a) && p.section().length() > a.length())
                    ? auto : manual).add(p.name());
        }
        b.append("    /**\n     * Attaches every program whose section names its attach point (").append(auto.isEmpty()
                ? "none here" : String.join(", ", auto)).append(")")
                .append(manual.isEmpty() ? "" : ";\n     * not " + String.join(", ", manual)
                        + ": attach those to a target (such as attachXdp) or run them with testRun").append(".\n");
        b.append("     *\n     * @return the links; closing it detaches them all\n     */\n");
        b.append("    public Links attachAll() {\n");
        if (auto.isEmpty()) {
            b.append("        return new Links(List.of());\n    }\n\n");
            return;
        }
        b.append("        List<BpfLink> links = new ArrayList<>();\n");
        b.append("        try {\n");
        for (String p : auto) {
            b.append("            links.add(object.program(\"").append(p).append("\").attach());\n");
        }
        b.append("        } catch (RuntimeException e) {\n            new Links(links).close();\n            throw e;\n");
        b.append("        }\n        return new Links(links);\n    }\n\n");
    }

    private void map(ObjectInfo.MapInfo m) {
        String name = names.claim(Names.member(m.name()), "map " + m.name());
        MapType type = mapType(m.type());
        String typeText = type == null ? "type " + m.type() : type.name();
        String shape = type == MapType.RINGBUF || type == MapType.USER_RINGBUF ? m.maxEntries() + " bytes"
                : "key " + spell(m.key(), m.keySize()) + ", value " + spell(m.value(), m.valueSize())
                + ", max entries " + m.maxEntries();
        members.append("    /** Map {@code ").append(m.name()).append("} (").append(typeText).append(", ").append(shape)
                .append("); exists after load. */\n");
        members.append("    public BpfMap ").append(name).append("() {\n        return object.map(\"").append(m.name())
                .append("\");\n    }\n\n");
        String ringStruct = m.tags().stream().map(Generator::tagStruct).filter(s -> s != null).findFirst().orElse(null);
        if (type == MapType.RINGBUF && ringStruct != null && records.containsKey(ringStruct)) {
            rings = true;
            String r = records.get(ringStruct);
            String reader = names.claim(name + "Reader", "the typed reader of ring " + m.name());
            members.append("    /** A reader of ring buffer {@code ").append(m.name()).append("}, whose records are struct ")
                    .append(ringStruct).append("; close it before this object. */\n");
            members.append("    public TypedRing<").append(r).append("> ").append(reader).append("() {\n");
            members.append("        return new TypedRing<>(RingBuffer.of(object.map(\"").append(m.name()).append("\")), ")
                    .append(codec(ringStruct)).append(");\n    }\n\n");
        }
        if (type == MapType.PERF_EVENT_ARRAY && ringStruct != null && records.containsKey(ringStruct)) {
            for (String t : List.of("PerfBuffer", "PerfOptions", "TypedPerf")) {
                if (records.containsValue(t) || enums.containsValue(t)) {   // only a typed perf reader needs them
                    throw new CodegenException("the typed reader of perf event array " + m.name() + " needs the "
                            + "Java name " + t + ", which a generated type of this object has: rename that C type");
                }
            }
            perfs = true;
            String r = records.get(ringStruct);
            String reader = names.claim(name + "Reader", "the typed reader of perf event array " + m.name());
            members.append("    /**\n     * A reader of perf event array {@code ").append(m.name())
                    .append("} on every online CPU, whose samples are struct\n     * ").append(ringStruct)
                    .append("; close it before this object.\n     */\n");
            members.append("    public TypedPerf<").append(r).append("> ").append(reader).append("() {\n");
            members.append("        return ").append(reader).append("(PerfOptions.defaults());\n    }\n\n");
            members.append("    /** Like {@link #").append(reader).append("()}, with {@code options} (CPUs, buffer sizes, wakeups). */\n");
            members.append("    public TypedPerf<").append(r).append("> ").append(reader).append("(PerfOptions options) {\n");
            members.append("        return new TypedPerf<>(PerfBuffer.of(object.map(\"").append(m.name())
                    .append("\"), options), ").append(codec(ringStruct)).append(");\n    }\n\n");
        }
        boolean perCpu = type == MapType.PERCPU_ARRAY || type == MapType.PERCPU_HASH;
        ObjectInfo.TypeInfo v = m.value();
        if (perCpu || v == null || v.kind() != ObjectInfo.Kind.STRUCT || !records.containsKey(v.name())) {
            return;
        }
        ObjectInfo.TypeInfo k = m.key();
        String value = records.get(v.name());
        String keyParam;
        String keyArg;
        if (k != null && k.kind() == ObjectInfo.Kind.STRUCT && records.containsKey(k.name())) {
            keyParam = records.get(k.name()) + " key";
            keyArg = codec(k.name()) + ", key";
        } else if (m.keySize() == 4 && k != null && (k.kind() == ObjectInfo.Kind.SIGNED
                || k.kind() == ObjectInfo.Kind.UNSIGNED)) {
            keyParam = "int key";
            keyArg = "key";
        } else {
            return;
        }
        String lookup = names.claim("lookup" + Names.capitalized(name), "the lookup of map " + m.name());
        String update = names.claim("update" + Names.capitalized(name), "the update of map " + m.name());
        members.append("    /** The value at {@code key} in map {@code ").append(m.name()).append("}, or null. */\n");
        members.append("    public ").append(value).append(" ").append(lookup).append("(").append(keyParam).append(") {\n");
        members.append("        return ").append(codec(v.name())).append(".lookup(object.map(\"").append(m.name())
                .append("\"), ").append(keyArg).append(");\n    }\n\n");
        members.append("    /** Stores {@code value} at {@code key} in map {@code ").append(m.name()).append("}. */\n");
        members.append("    public void ").append(update).append("(").append(keyParam).append(", ").append(value)
                .append(" value) {\n");
        if (keyArg.equals("key")) {
            members.append("        ").append(codec(v.name())).append(".update(object.map(\"").append(m.name())
                    .append("\"), key, value);\n    }\n\n");
        } else {
            members.append("        try (Arena a = Arena.ofConfined()) {\n            ").append(codec(v.name()))
                    .append(".update(object.map(\"").append(m.name()).append("\"), ").append(codec(k.name()))
                    .append(".encode(key, a), value);\n        }\n    }\n\n");
        }
    }

    private void program(ObjectInfo.ProgramInfo p) {
        String name = names.claim(Names.member(p.name()), "program " + p.name());
        members.append("    /** Program {@code ").append(p.name()).append("} (section {@code ").append(p.section())
                .append("}). */\n");
        members.append("    public BpfProgram ").append(name).append("() {\n        return object.program(\"")
                .append(p.name()).append("\");\n    }\n\n");
    }

    private static String spell(ObjectInfo.TypeInfo t, long size) {
        return t == null ? size + " bytes" : t.spelling();
    }

    private static MapType mapType(int type) {
        for (MapType t : MapType.values()) {
            if (t.value() == type) {
                return t;
            }
        }
        return null;
    }

    private static String codec(String struct) {
        return Names.member(struct) + "Codec";
    }
}
