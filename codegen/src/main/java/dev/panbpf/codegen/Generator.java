package dev.panbpf.codegen;

import dev.panbpf.BpfException;
import dev.panbpf.BpfObject;
import dev.panbpf.ObjectInfo;
import dev.panbpf.event.RecordSource;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * Generator writes typed Java for one compiled BPF object: a skeleton class with an accessor per map, program
 * and global variable, a record per struct that a map holds or that the C source marks with panbpf.bpf.h's
 * macros, and an enum per C enum. Everything it writes is checked against the object's BTF when the skeleton
 * loads, so Java generated from an older build fails there with the list of differences.
 *
 * <pre>{@code
 * Generator.Result r = Generator.of(Path.of("producer.bpf.o")).packageName("org.example").generate();
 * r.writeTo(Path.of("target/generated-sources/panbpf"));
 * }</pre>
 */
public final class Generator {
    /** The declaration tag that names the struct a ring buffer (or perf buffer) carries. */
    static final String RECORD_TAG = "panbpf.record:";
    /** The declaration tag of a variable whose only purpose is to keep a struct in BTF. */
    static final String KEEP_TAG = "panbpf.keep:";
    /** Variables made by panbpf.bpf.h's macros start with this and get no accessor. */
    static final String MACRO_PREFIX = "__panbpf_";

    /** Simple names the generated files import or declare besides records and enums: a record may not take one. */
    private static final List<String> RESERVED_TYPES = List.of("BpfException", "BpfLink", "BpfMap", "BpfObject",
            "BpfProgram", "EnumCheck", "EnumValue", "EventHandler", "StructCodec", "RingBuffer", "Unsigned", "Size",
            "Padding", "IOException", "InputStream", "UncheckedIOException", "Arena", "MemorySegment", "ValueLayout",
            "MethodHandles", "Path", "Duration", "ArrayList", "List", "Links", "TypedRing", "String", "Object",
            "Record", "Override", "Long", "Integer", "Short", "Byte", "Float", "Double", "Boolean");

    private final Path object;
    private String packageName = "";
    private String className;
    private String resource;
    private final Set<String> extraStructs = new LinkedHashSet<>();

    private Generator(Path object) {
        this.object = Objects.requireNonNull(object, "object");
    }

    /**
     * A generator for the object file {@code object} ({@code name.bpf.o}).
     *
     * @param object path of the BPF object file
     * @return a generator with default settings
     */
    public static Generator of(Path object) {
        return new Generator(object);
    }

    /**
     * Sets the Java package of the generated sources ("" for none, the default).
     *
     * @param name the package name
     * @return this generator
     */
    public Generator packageName(String name) {
        this.packageName = Objects.requireNonNull(name, "name");
        return this;
    }

    /**
     * Sets the skeleton's class name; by default CamelCase of the object's name followed by "Object".
     *
     * @param name the simple class name, or null for the default
     * @return this generator
     */
    public Generator className(String name) {
        this.className = name;
        return this;
    }

    /**
     * Sets the resource the skeleton opens, relative to its own package as for {@link Class#getResource}; by
     * default the object's file name, so the object belongs beside the class in the same package.
     *
     * @param name the resource name, or null for the default
     * @return this generator
     */
    public Generator resource(String name) {
        this.resource = name;
        return this;
    }

    /**
     * Also writes a record for {@code struct}, which must be in the object's BTF.
     *
     * @param struct the C struct's name
     * @return this generator
     */
    public Generator struct(String struct) {
        extraStructs.add(struct);
        return this;
    }

    /**
     * One generated source file: its path under the source root and its text.
     *
     * @param path the file's path relative to the source root
     * @param source the file's Java text
     */
    public record SourceFile(Path path, String source) { }

    /**
     * What {@link #generate} wrote: the skeleton's simple name, the records by C struct name, the files, and
     * warnings about what it left untyped.
     *
     * @param skeleton the skeleton class's simple name
     * @param records the generated record names, by C struct name
     * @param files every generated source file
     * @param warnings what was left untyped, one sentence each
     */
    public record Result(String skeleton, Map<String, String> records, List<SourceFile> files, List<String> warnings) {
        /**
         * Writes every file under {@code root}, replacing a file only when its text changed.
         *
         * @param root the generated-sources directory
         */
        public void writeTo(Path root) {
            try {
                for (SourceFile f : files) {
                    Path p = root.resolve(f.path());
                    Files.createDirectories(p.getParent());
                    if (!Files.exists(p) || !Files.readString(p).equals(f.source())) {
                        Files.writeString(p, f.source());
                    }
                }
            } catch (IOException e) {
                throw new UncheckedIOException("cannot write the generated sources under " + root, e);
            }
        }
    }

    /**
     * Generates the sources.
     *
     * @return the generated files and what they contain
     * @throws CodegenException when two generated names clash, a struct asked for is not in BTF, or the object
     *         cannot be opened
     */
    public Result generate() {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(object);
        } catch (IOException e) {
            throw new CodegenException("cannot read BPF object " + object + ": " + e.getMessage(), e);
        }
        String file = object.getFileName().toString();
        try (BpfObject obj = BpfObject.open(bytes, file)) {
            return generate(obj, file, sha256(bytes));
        } catch (BpfException e) {
            if (e instanceof dev.panbpf.event.StructMismatchException) {
                throw e;
            }
            throw new CodegenException("cannot generate Java for " + object + ": " + e.getMessage(), e);
        }
    }

    private Result generate(BpfObject obj, String file, String sha) {
        ObjectInfo info = obj.describe();
        // libbpf cuts object names to 15 characters, so the class is named after the file.
        String base = file.contains(".") ? file.substring(0, file.indexOf('.')) : file;
        String skeleton = className != null ? className : Names.type(base) + "Object";
        Names names = new Names(info.name());
        names.claim(skeleton, "the skeleton class");
        for (String t : RESERVED_TYPES) {
            names.claim(t, "the type " + t + " that generated code uses");
        }
        String header = "// Generated by panbpf from " + file + " (SHA-256 " + sha + ").\n"
                + "// Do not edit: regenerate with `panbpf gen` or the panbpf Maven plugin when the C source changes.\n";
        List<String> warnings = new ArrayList<>();

        Map<String, String> records = new LinkedHashMap<>();         // C struct -> Java record
        for (String s : wantedStructs(info)) {
            records.put(s, names.claim(Names.type(s), "the record of struct " + s));
        }
        Map<String, String> enums = new LinkedHashMap<>();
        for (String e : info.enums()) {
            enums.put(e, names.claim(Names.type(e), "the enum of enum " + e));
        }
        List<SourceFile> files = new ArrayList<>();
        Path dir = packageName.isEmpty() ? Path.of("") : Path.of(packageName.replace('.', '/'));
        // First drop the structs panbpf cannot type (a map value stays raw bytes), so that no record refers to them.
        for (String c : List.copyOf(records.keySet())) {
            try {
                RecordSource.generate(obj, c, packageName);
            } catch (BpfException e) {
                if (!isExplicit(info, c)) {
                    warnings.add("struct " + c + " gets no record: " + e.getMessage());
                    records.remove(c);
                    continue;
                }
                throw new CodegenException(e.getMessage(), e);
            }
        }
        // A struct or enum that gets a file of its own is referred to by that type, not copied into each record.
        Map<String, String> shared = new LinkedHashMap<>();
        records.forEach((c, j) -> shared.put("struct " + c, j));
        enums.forEach((c, j) -> shared.put("enum " + c, j));
        for (var r : records.entrySet()) {
            files.add(new SourceFile(dir.resolve(r.getValue() + ".java"),
                    header + RecordSource.generate(obj, r.getKey(), packageName, shared)));
        }
        for (var e : enums.entrySet()) {
            files.add(new SourceFile(dir.resolve(e.getValue() + ".java"),
                    header + RecordSource.generateEnum(obj, e.getKey(), packageName)));
        }
        String res = resource != null ? resource : file;
        String skel = new SkeletonSource(info, names, packageName, skeleton, res, sha, file, records, enums,
                warnings).write();
        files.add(new SourceFile(dir.resolve(skeleton + ".java"), header + skel));
        return new Result(skeleton, Map.copyOf(records), List.copyOf(files), List.copyOf(warnings));
    }

    /** The structs to write records for: map keys and values, tagged ring records, kept structs, extras. */
    private Set<String> wantedStructs(ObjectInfo info) {
        Set<String> wanted = new LinkedHashSet<>();
        for (ObjectInfo.MapInfo m : info.maps()) {
            if (m.section() != null) {
                continue;
            }
            for (ObjectInfo.TypeInfo t : new ObjectInfo.TypeInfo[] {m.key(), m.value()}) {
                if (t != null && t.kind() == ObjectInfo.Kind.STRUCT && !t.name().isEmpty()) {
                    wanted.add(t.name());
                }
            }
        }
        Set<String> explicit = new LinkedHashSet<>(taggedStructs(info));
        explicit.addAll(extraStructs);
        for (String s : explicit) {
            if (!info.structs().contains(s)) {
                throw new CodegenException("struct " + s + " is not in the BTF of BPF object '" + info.name() + "'"
                        + (info.structs().isEmpty() ? "" : " (it has " + info.structs() + ")") + ". clang keeps a "
                        + "struct in BTF only when a global variable, a map definition or a non-inlined function's "
                        + "signature uses it, not when only a local variable does: add PANBPF_KEEP(struct " + s
                        + "); from panbpf.bpf.h at file scope in the C source");
            }
            wanted.add(s);
        }
        return wanted;
    }

    private boolean isExplicit(ObjectInfo info, String struct) {
        return extraStructs.contains(struct) || taggedStructs(info).contains(struct);
    }

    /** The structs named by panbpf.bpf.h's declaration tags on maps and variables. */
    static Set<String> taggedStructs(ObjectInfo info) {
        Set<String> out = new LinkedHashSet<>();
        List<List<String>> tags = new ArrayList<>();
        info.maps().forEach(m -> tags.add(m.tags()));
        info.variables().forEach(v -> tags.add(v.tags()));
        for (List<String> ts : tags) {
            for (String t : ts) {
                String s = tagStruct(t);
                if (s != null) {
                    out.add(s);
                }
            }
        }
        return out;
    }

    /** The struct name of a panbpf tag ("panbpf.record:struct event" gives "event"), or null for other tags. */
    static String tagStruct(String tag) {
        String rest = tag.startsWith(RECORD_TAG) ? tag.substring(RECORD_TAG.length())
                : tag.startsWith(KEEP_TAG) ? tag.substring(KEEP_TAG.length()) : null;
        if (rest == null) {
            return null;
        }
        rest = rest.strip();
        return rest.startsWith("struct ") ? rest.substring("struct ".length()).strip() : rest;
    }

    static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JDK has no SHA-256", e);
        }
    }
}
