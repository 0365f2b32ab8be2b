package dev.panbpf.event;

import dev.panbpf.BpfException;
import dev.panbpf.BpfObject;
import dev.panbpf.internal.BtfTypes;
import dev.panbpf.internal.CType;
import dev.panbpf.internal.ObjectBtf;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;

/**
 * RecordSource writes the Java source of a record that mirrors a C struct of a BPF object's BTF, ready for
 * {@link StructCodec}: nested structs become nested records, enums nested enums implementing {@link EnumValue},
 * char arrays {@code @Size(n) String}, unsigned integers are widened so they read as the C value
 * ({@code __u32} becomes {@code @Unsigned(4) long}), and gaps that natural alignment does not explain become
 * {@link Padding}. Unions and arrays of structs become raw {@code byte[]}; bitfields are refused.
 */
public final class RecordSource {

    private final Map<String, String> nestedTypes = new LinkedHashMap<>();   // C name -> Java source
    private final Map<String, String> typeNames = new LinkedHashMap<>();     // C name -> Java name
    private final Map<String, Long> nestedAlign = new LinkedHashMap<>();
    private final Set<String> javaNames = new HashSet<>();
    private final Set<String> imports = new TreeSet<>();
    /** "struct x" / "enum x" -> the top-level Java type written beside this one. */
    private final Map<String, String> shared = new HashMap<>();

    private RecordSource() { }

    /**
     * RecordSource.generate returns the source of a record named after {@code struct}, in no package.
     *
     * @param object the BPF object whose BTF holds the struct
     * @param struct the C struct's name
     * @return Java source of the record
     */
    public static String generate(BpfObject object, String struct) {
        return generate(object, struct, "");
    }

    /**
     * RecordSource.generate returns the source of a public record mirroring {@code struct} in the BTF of
     * {@code object}, in package {@code packageName} ("" for none), named in CamelCase after the struct.
     *
     * @param object the BPF object whose BTF holds the struct
     * @param struct the C struct's name
     * @param packageName the package of the generated record, or ""
     * @return Java source of the record
     * @throws BpfException when the struct is missing or has a member panbpf cannot map (a bitfield)
     */
    public static String generate(BpfObject object, String struct, String packageName) {
        return generate(object, struct, packageName, Map.of());
    }

    /**
     * Like {@link #generate(BpfObject, String, String)}, for a generator that writes several types side by side:
     * a member whose C type is a key of {@code shared} ({@code "struct name"} or {@code "enum name"}) takes the
     * top-level Java type named by its value, written elsewhere, instead of a nested copy of it.
     *
     * @param object the BPF object whose BTF holds the struct
     * @param struct the C struct's name
     * @param packageName the package of the generated record, or ""
     * @param shared C types that have a top-level Java type of their own in the same package, and its name
     * @return Java source of the record
     * @throws BpfException when the struct is missing or has a member panbpf cannot map (a bitfield)
     */
    public static String generate(BpfObject object, String struct, String packageName, Map<String, String> shared) {
        Objects.requireNonNull(struct, "struct");
        String owner = "BPF object '" + object.name() + "'";
        CType.Struct c = ObjectBtf.read(object, btf -> BtfTypes.struct(btf, struct, owner));
        RecordSource g = new RecordSource();
        for (var e : shared.entrySet()) {
            if (!e.getKey().equals("struct " + struct)) {
                g.shared.put(e.getKey(), e.getValue());
                g.javaNames.add(e.getValue());      // a nested type must not take, and so shadow, that name
            }
        }
        String name = g.uniqueType(JavaNames.camel(c.name().isEmpty() ? struct : c.name(), true));
        String body = g.record(c, name, "", true);
        StringBuilder out = new StringBuilder();
        if (!packageName.isEmpty()) {
            out.append("package ").append(packageName).append(";\n\n");
        }
        for (String i : g.imports) {
            out.append("import dev.panbpf.event.").append(i).append(";\n");
        }
        if (!g.imports.isEmpty()) {
            out.append('\n');
        }
        return out.append(body).toString();
    }

    /**
     * RecordSource.typeName is the Java name {@link #generate} gives the record or enum of C type {@code cName}.
     *
     * @param cName the C struct or enum name, such as {@code "event_t"}
     * @return the CamelCase Java name
     */
    public static String typeName(String cName) {
        return JavaNames.camel(cName, true);
    }

    /**
     * RecordSource.identifier makes {@code name} usable as a Java identifier the way {@link #generate} does for
     * record components: an underscore before a first character that cannot start one, and after a keyword.
     *
     * @param name a non-empty name made of Java identifier characters
     * @return the identifier
     */
    public static String identifier(String name) {
        return JavaNames.identifier(name);
    }

    /**
     * RecordSource.generateEnum returns the source of a public top-level Java enum implementing {@link EnumValue}
     * with the constants of C enum {@code name} in the BTF of {@code object}, named as {@link #typeName} says.
     *
     * @param object the BPF object whose BTF holds the enum
     * @param name the C enum's name
     * @param packageName the package of the generated enum, or ""
     * @return Java source of the enum
     * @throws BpfException when the object has no such enum
     */
    public static String generateEnum(BpfObject object, String name, String packageName) {
        CType.Enum e = ObjectBtf.read(object, btf -> BtfTypes.enumeration(btf, name, "BPF object '"
                + object.name() + "'"));
        String nested = new RecordSource().enumSource(e, typeName(name));
        StringBuilder out = new StringBuilder();
        if (!packageName.isEmpty()) {
            out.append("package ").append(packageName).append(";\n\n");
        }
        out.append("import dev.panbpf.event.EnumValue;\n\n");
        for (String line : nested.split("\n", -1)) {      // nested sources are indented by one level
            out.append(line.startsWith("    ") ? line.substring(4) : line).append('\n');
        }
        return out.toString().stripTrailing() + "\n";
    }

    /** The source of a record for {@code c}; nested types go inside the top-level record. */
    private String record(CType.Struct c, String javaName, String indent, boolean top) {
        List<String> components = new ArrayList<>();
        Set<String> names = new HashSet<>();
        long at = 0;
        long align = 1;
        for (Picked p : members(c)) {
            CType.Member m = p.member();
            if (m.isBitfield()) {
                throw new BpfException("struct " + c.name() + " member '" + m.name() + "' is a bitfield ("
                        + m.bitfieldSize() + " bits), which panbpf does not support (unsupported): "
                        + "cannot write a record for it");
            }
            Mapped j = map(m, c.name());
            if (!names.add(j.name)) {         // two C names with one camelCase form: keep the C name
                j = new Mapped(j.type, JavaNames.identifier(m.name()), j.align);
                names.add(j.name);
            }
            long aligned = StructShape.alignUp(at, j.align);
            String pad = "";
            if (m.offset() != aligned) {
                if (m.offset() < at || m.offset() % j.align != 0) {
                    throw new BpfException("struct " + c.name() + " member '" + m.name() + "' at offset "
                            + m.offset() + " is not where natural alignment puts it (a packed struct?); "
                            + "panbpf lays records out with natural alignment");
                }
                imports.add("Padding");
                pad = "@Padding(" + (m.offset() - at) + ") ";
            }
            components.add(pad + j.type + " " + j.name + ",\0// " + BtfCheck.declaration(m) + ", offset "
                    + m.offset() + p.note());
            at = m.offset() + m.type().size();
            align = Math.max(align, j.align);
        }
        String classPad = "";
        if (StructShape.alignUp(at, align) != c.size()) {
            imports.add("Padding");
            classPad = indent + "@Padding(" + (c.size() - at) + ")\n";
        }
        nestedAlign.put(javaName, align);
        StringBuilder b = new StringBuilder();
        b.append(indent).append("/** ").append(javaName).append(" mirrors struct ").append(c.name())
                .append(" (").append(c.size()).append(" bytes)").append(top ? ", written by panbpf from BTF" : "")
                .append(". */\n").append(classPad);
        b.append(indent).append("public record ").append(javaName).append("(\n");
        int width = 0;
        for (String line : components) {
            width = Math.max(width, line.indexOf('\0'));
        }
        for (int i = 0; i < components.size(); i++) {
            String line = components.get(i);
            int cut = line.indexOf('\0');
            String code = i == components.size() - 1 ? line.substring(0, cut - 1) + " " : line.substring(0, cut);
            b.append(indent).append("        ").append(code).append(" ".repeat(width - cut + 2))
                    .append(line.substring(cut + 1)).append('\n');
        }
        b.append(indent).append(") {");
        if (top && !nestedTypes.isEmpty()) {
            b.append('\n');
            for (String n : nestedTypes.values()) {
                b.append('\n').append(n);
            }
        }
        return b.append(top && !nestedTypes.isEmpty() ? "}\n" : " }\n").toString();
    }

    /** A member to mirror, with a note on why it was chosen when it stands for others. */
    private record Picked(CType.Member member, String note) { }

    /** The members to mirror: anonymous structs are inlined; of an anonymous union, its largest member. */
    private static List<Picked> members(CType.Struct c) {
        List<Picked> out = new ArrayList<>();
        for (CType.Member m : c.members()) {
            if (m.name().isEmpty() && m.type() instanceof CType.Struct inner) {
                List<Picked> ms = members(inner);
                if (inner.union() && !ms.isEmpty()) {
                    Picked largest = ms.get(0);
                    List<String> others = new ArrayList<>();
                    for (Picked x : ms) {
                        largest = x.member().type().size() > largest.member().type().size() ? x : largest;
                    }
                    for (Picked x : ms) {
                        if (x != largest) {
                            others.add(x.member().name());
                        }
                    }
                    ms = List.of(new Picked(largest.member(), others.isEmpty() ? largest.note()
                            : " (anonymous union, also " + String.join(", ", others) + ")"));
                }
                for (Picked x : ms) {
                    CType.Member xm = x.member();
                    out.add(new Picked(new CType.Member(xm.name(), m.bitOffset() + xm.bitOffset(),
                            xm.bitfieldSize(), xm.type()), x.note()));
                }
            } else {
                out.add(new Picked(m, ""));
            }
        }
        return out;
    }

    /** A member as a Java component: its annotated type, name and natural alignment. */
    private record Mapped(String type, String name, long align) { }

    private Mapped map(CType.Member m, String owner) {
        String name = JavaNames.component(m.name());
        CType t = m.type();
        return switch (t) {
            case CType.Int i -> integer(i, name);
            case CType.Float f when f.size() == 4 || f.size() == 8 ->
                    new Mapped(f.size() == 4 ? "float" : "double", name, f.size());
            case CType.Pointer p -> unsigned("long", 8, name, false);
            case CType.Enum e -> enumeration(e, m.name(), name);
            case CType.Struct s when !s.union() && shared.containsKey("struct " + s.name()) -> {
                RecordSource scratch = new RecordSource();   // only for the struct's natural alignment
                scratch.record(s, "Scratch", "", false);
                yield new Mapped(shared.get("struct " + s.name()), name, scratch.nestedAlign.get("Scratch"));
            }
            case CType.Struct s when !s.union() -> {
                String key = s.name().isEmpty() ? owner + "." + m.name() : s.name();
                String javaName = typeNames.get(key);
                if (javaName == null) {
                    javaName = uniqueType(JavaNames.camel(s.name().isEmpty() ? m.name() : s.name(), true));
                    typeNames.put(key, javaName);
                    nestedTypes.put(key, "");     // reserve the slot before nested members add theirs
                    nestedTypes.put(key, record(s, javaName, "    ", false));
                }
                yield new Mapped(javaName, name, nestedAlign.get(javaName));
            }
            case CType.Array a -> array(a, name);
            default -> rawBytes(t.size(), name);
        };
    }

    private Mapped integer(CType.Int i, String name) {
        if (i.isBool() && i.size() == 1) {
            return new Mapped("boolean", name, 1);
        }
        String[] signed = {"byte", "short", null, "int", null, null, null, "long"};
        int w = (int) i.size();
        if (w != 1 && w != 2 && w != 4 && w != 8) {
            return rawBytes(w, name);
        }
        if (i.signed() || i.isChar()) {
            return new Mapped(signed[w - 1], name, w);
        }
        return w == 8 ? unsigned("long", 8, name, false) : unsigned(w == 4 ? "long" : "int", w, name, true);
    }

    private Mapped unsigned(String javaType, int width, String name, boolean widened) {
        imports.add("Unsigned");
        return new Mapped((widened ? "@Unsigned(" + width + ") " : "@Unsigned ") + javaType, name, width);
    }

    private Mapped enumeration(CType.Enum e, String member, String name) {
        String key = "enum " + (e.name().isEmpty() ? member : e.name());
        String javaName = e.name().isEmpty() ? typeNames.get(key) : shared.getOrDefault(key, typeNames.get(key));
        if (javaName == null) {
            javaName = uniqueType(JavaNames.camel(e.name().isEmpty() ? member : e.name(), true));
            typeNames.put(key, javaName);
            nestedTypes.put(key, enumSource(e, javaName));
        }
        boolean big = false;
        for (CType.Enumerator v : e.values()) {
            big |= v.value() > Integer.MAX_VALUE || v.value() < Integer.MIN_VALUE;
        }
        if (e.size() == 4 && !big) {
            return new Mapped(javaName, name, 4);
        }
        imports.add("Unsigned");
        return new Mapped("@Unsigned(" + e.size() + ") " + javaName, name, e.size());
    }

    private String enumSource(CType.Enum e, String javaName) {
        imports.add("EnumValue");
        StringBuilder b = new StringBuilder();
        b.append("    /** ").append(javaName).append(" mirrors enum ").append(e.name().isEmpty() ? "(anonymous)"
                : e.name()).append(". */\n");
        b.append("    public enum ").append(javaName).append(" implements EnumValue {\n");
        Set<Long> seen = new HashSet<>();
        List<String> constants = new ArrayList<>();
        for (CType.Enumerator v : e.values()) {
            if (seen.add(v.value())) {
                constants.add("        " + JavaNames.identifier(v.name()) + "(" + v.value() + "L)");
            } else {
                constants.add("        // " + v.name() + " = " + v.value() + " repeats a value above");
            }
        }
        for (int i = 0; i < constants.size(); i++) {
            String c = constants.get(i);
            boolean last = true;
            for (int j = i + 1; j < constants.size(); j++) {
                last &= constants.get(j).trim().startsWith("//");
            }
            b.append(c).append(c.trim().startsWith("//") ? "" : last ? ";" : ",").append('\n');
        }
        if (constants.stream().allMatch(c -> c.trim().startsWith("//"))) {
            b.append("        ;\n");
        }
        b.append("\n        private final long value;\n\n");
        b.append("        ").append(javaName).append("(long value) {\n            this.value = value;\n        }\n\n");
        b.append("        @Override\n        public long value() {\n            return value;\n        }\n    }\n");
        return b.toString();
    }

    private Mapped array(CType.Array a, String name) {
        long count = a.count();
        CType e = a.element();
        while (e instanceof CType.Array inner) {
            count *= inner.count();
            e = inner.element();
        }
        imports.add("Size");
        if (e instanceof CType.Int i && i.size() == 1 && i.isChar()) {
            return new Mapped("@Size(" + count + ") String", name, 1);
        }
        if (e instanceof CType.Int i && (i.size() == 1 || i.size() == 2 || i.size() == 4 || i.size() == 8)) {
            String t = i.isBool() ? "boolean" : switch ((int) i.size()) {
                case 1 -> "byte";
                case 2 -> "short";
                case 4 -> "int";
                default -> "long";
            };
            if (!i.signed() && !i.isBool() && i.size() > 1) {
                imports.add("Unsigned");
                t = "@Unsigned " + t;
            }
            return new Mapped("@Size(" + count + ") " + t + "[]", name, i.size());
        }
        if (e instanceof CType.Float f && (f.size() == 4 || f.size() == 8)) {
            return new Mapped("@Size(" + count + ") " + (f.size() == 4 ? "float" : "double") + "[]", name, f.size());
        }
        return rawBytes(a.size(), name);
    }

    /** A member panbpf cannot type: its bytes, at byte alignment (padding before it keeps the offset). */
    private Mapped rawBytes(long size, String name) {
        imports.add("Size");
        return new Mapped("@Size(" + size + ") byte[]", name, 1);
    }

    private String uniqueType(String base) {
        String n = base;
        for (int i = 2; !javaNames.add(n); i++) {
            n = base + i;
        }
        return n;
    }
}
