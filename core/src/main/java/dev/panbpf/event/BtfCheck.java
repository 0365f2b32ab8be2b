package dev.panbpf.event;

import dev.panbpf.event.StructShape.Field;
import dev.panbpf.internal.CType;

import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * BtfCheck compares a record's derived layout with a struct read from BTF and lists every difference: the struct
 * size, each component without a C member, at another offset, of another size or of an incompatible kind, and
 * each C member that no component or declared padding accounts for. Nested records are compared member by member.
 */
final class BtfCheck {
    private final List<String> differences = new ArrayList<>();

    private BtfCheck() { }

    /** The differences between {@code shape} and {@code c}; empty when they match. */
    static List<String> compare(StructShape shape, CType.Struct c) {
        BtfCheck check = new BtfCheck();
        check.struct(shape, c, "");
        return check.differences;
    }

    /** A C member seen through anonymous structs and unions, at its offset in the struct being compared. */
    private record Flat(CType.Member member, long bitOffset, Object union) {
        long offset() {
            return bitOffset / 8;
        }

        long size() {
            return member.isBitfield() ? (bitOffset + member.bitfieldSize() + 7) / 8 - bitOffset / 8
                    : member.type().size();
        }
    }

    private void struct(StructShape shape, CType.Struct c, String prefix) {
        String what = prefix.isEmpty() ? "struct " + c.name() : "field '" + prefix.substring(0, prefix.length() - 1)
                + "' (struct " + c.name() + ")";
        if (c.union()) {
            differences.add(what + ": C has a union, which a record cannot mirror; map it as @Size("
                    + c.size() + ") byte[]");
            return;
        }
        if (shape.size() != c.size()) {
            differences.add("size of " + what + ": C " + c.size() + " bytes, Java " + shape.size() + " bytes (record "
                    + shape.type().getSimpleName() + ")");
        }
        List<Flat> members = new ArrayList<>();
        flatten(c, 0, null, members);
        Map<Flat, Boolean> matched = new IdentityHashMap<>();
        for (Field f : shape.fields()) {
            Flat m = find(members, f.name());
            String where = prefix + f.name();
            if (m == null) {
                String snake = snake(f.name());
                differences.add("field '" + where + "': struct " + c.name() + " has no member '" + f.name() + "'"
                        + (snake.equals(f.name()) ? "" : " or '" + snake + "'") + " (Java offset " + f.offset()
                        + " size " + f.size() + ")");
                continue;
            }
            matched.put(m, true);
            field(f, m, where);
        }
        for (Flat m : members) {
            if (matched.containsKey(m) || shape.isPadding(m.offset(), m.size()) || unionSiblingMatched(m, matched)) {
                continue;
            }
            differences.add("C member '" + prefix + m.member().name() + "' (C offset " + m.offset() + " size "
                    + m.size() + ", " + m.member().type().spelling() + ") has no Java component: add one, or "
                    + "declare its bytes with @Padding");
        }
    }

    private void field(Field f, Flat m, String where) {
        CType.Member member = m.member();
        CType t = member.type();
        if (member.isBitfield()) {
            differences.add("field '" + where + "': C member '" + member.name() + "' is a bitfield ("
                    + member.bitfieldSize() + " bits at bit " + m.bitOffset() + "), which panbpf does not support "
                    + "(unsupported); leave it out and declare the bytes holding it with @Padding");
            return;
        }
        if (m.offset() != f.offset() || t.size() != f.size()) {
            differences.add("field '" + where + "': C offset " + m.offset() + " size " + t.size() + " ("
                    + t.spelling() + "), Java offset " + f.offset() + " size " + f.size() + " (" + f.javaType() + ")");
        } else if (!compatible(f, t)) {
            differences.add("field '" + where + "': C type " + t.spelling() + " (" + kindOf(t) + ") cannot be read as "
                    + "Java " + f.javaType() + " at offset " + f.offset());
        }
        if (f.kind() == Field.Kind.STRUCT && t instanceof CType.Struct s) {
            struct(f.nested(), s, where + ".");
        }
    }

    private static boolean compatible(Field f, CType t) {
        if (f.kind() == Field.Kind.ARRAY && f.component().getType() == byte[].class) {
            return true;                       // raw bytes stand for any member of the same size
        }
        return switch (f.kind()) {
            case INT, CHAR, ENUM -> t instanceof CType.Int || t instanceof CType.Enum || t instanceof CType.Pointer;
            case BOOL -> t instanceof CType.Int;
            case FLOAT -> t instanceof CType.Float;
            case STRUCT -> t instanceof CType.Struct;
            case STRING -> t instanceof CType.Array a && innermost(a) instanceof CType.Int i && i.size() == 1;
            case ARRAY -> t instanceof CType.Array a && elementCompatible(f, innermost(a))
                    && innermost(a).size() == f.width();
        };
    }

    private static boolean elementCompatible(Field f, CType e) {
        Class<?> j = f.component().getType().getComponentType();
        return j == float.class || j == double.class ? e instanceof CType.Float
                : e instanceof CType.Int || e instanceof CType.Enum;
    }

    private static CType innermost(CType.Array a) {
        CType e = a.element();
        while (e instanceof CType.Array inner) {
            e = inner.element();
        }
        return e;
    }

    private static String kindOf(CType t) {
        return switch (t) {
            case CType.Int i -> i.isBool() ? "bool" : (i.signed() ? "signed " : "unsigned ") + "integer";
            case CType.Float x -> "floating point";
            case CType.Pointer p -> "pointer";
            case CType.Array a -> "array";
            case CType.Struct s -> s.union() ? "union" : "struct";
            case CType.Enum e -> "enum";
            case CType.Other o -> "unsupported type";
        };
    }

    /** Lists the members of {@code s}, descending into anonymous structs and unions. */
    private static void flatten(CType.Struct s, long baseBits, Object union, List<Flat> out) {
        for (CType.Member m : s.members()) {
            if (m.name().isEmpty() && m.type() instanceof CType.Struct inner) {
                flatten(inner, baseBits + m.bitOffset(), inner.union() ? inner : union, out);
            } else {
                out.add(new Flat(m, baseBits + m.bitOffset(), union));
            }
        }
    }

    /** The member named like the component: exactly, else ignoring case and underscores (srcIp = src_ip). */
    private static Flat find(List<Flat> members, String name) {
        for (Flat m : members) {
            if (m.member().name().equals(name)) {
                return m;
            }
        }
        String n = loose(name);
        for (Flat m : members) {
            if (loose(m.member().name()).equals(n)) {
                return m;
            }
        }
        return null;
    }

    private static boolean unionSiblingMatched(Flat m, Map<Flat, Boolean> matched) {
        if (m.union() == null) {
            return false;
        }
        for (Flat other : matched.keySet()) {
            if (other.union() == m.union()) {
                return true;
            }
        }
        return false;
    }

    static String loose(String name) {
        return name.replace("_", "").toLowerCase(Locale.ROOT);
    }

    static String snake(String camel) {
        return camel.replaceAll("([a-z0-9])([A-Z])", "$1_$2").toLowerCase(Locale.ROOT);
    }

    /** The C struct as text, one member per line with its offset and size, for error messages. */
    static String describe(CType.Struct c) {
        StringBuilder b = new StringBuilder();
        describe(c, "", b);
        return b.toString();
    }

    private static void describe(CType.Struct c, String indent, StringBuilder b) {
        b.append(c.union() ? "union " : "struct ").append(c.name().isEmpty() ? "{...}" : c.name())
                .append(" {   /* size ").append(c.size()).append(" */\n");
        for (CType.Member m : c.members()) {
            if (m.type() instanceof CType.Struct inner && !inner.union() || m.name().isEmpty()
                    && m.type() instanceof CType.Struct) {
                b.append(indent).append("    ");
                describe((CType.Struct) m.type(), indent + "    ", b);
                b.setLength(b.length() - 2);
                b.append(" ").append(m.name()).append(";   /* offset ").append(m.offset()).append(", size ")
                        .append(m.type().size()).append(" */\n");
                continue;
            }
            String text = declaration(m) + (m.isBitfield() ? " : " + m.bitfieldSize() : "") + ";";
            b.append(indent).append("    ").append(text).append(" ".repeat(Math.max(1, 36 - text.length())));
            b.append(m.isBitfield() ? "/* bit " + m.bitOffset() : "/* offset " + m.offset())
                    .append(", size ").append(m.type().size()).append(" */\n");
        }
        b.append(indent).append("};\n");
    }

    /** A member as C declares it: {@code __u32 pid}, {@code char comm[16]}. */
    static String declaration(CType.Member m) {
        String spelling = m.type().spelling();
        int bracket = m.type() instanceof CType.Array ? spelling.indexOf('[') : -1;
        return bracket < 0 ? spelling + " " + m.name()
                : spelling.substring(0, bracket) + " " + m.name() + spelling.substring(bracket);
    }
}
