package dev.panbpf.codegen;

import dev.panbpf.ObjectInfo;

import java.util.List;

/**
 * GlobalAccessors writes the getter and setter of one global variable. Integers, booleans and floats get Java
 * primitives (unsigned ones widened so they read as the C value, as records do); anything else gets its memory.
 * Reads and writes go through BpfObject each time, so the same accessor reaches libbpf's initial value before
 * load and the live variable after it.
 */
final class GlobalAccessors {
    private GlobalAccessors() { }

    /** A Java type for a C scalar and how to convert the raw bits read. */
    private record Scalar(String type, String fromBits, String toBits) { }

    static void write(StringBuilder out, Names names, ObjectInfo.VariableInfo v, List<String> warnings) {
        String name = names.claim(Names.member(v.name()), "global variable " + v.name());
        Scalar s = scalar(v.type(), v.size());
        String when = v.readOnly() ? "; read-only once loaded: set it before load()"
                : "; before load its initial value, after load the live variable";
        String doc = "global variable {@code " + v.type().spelling() + " " + v.name() + "} in " + v.section();
        if (s == null) {
            out.append("    /** The memory of ").append(doc).append(when).append(". */\n");
            out.append("    public MemorySegment ").append(name).append("() {\n        return object.global(\"")
                    .append(v.name()).append("\");\n    }\n\n");
            return;
        }
        String setter = names.claim("set" + Names.capitalized(name), "the setter of global variable " + v.name());
        boolean signed = v.type().kind() == ObjectInfo.Kind.SIGNED || v.type().kind() == ObjectInfo.Kind.CHAR
                || v.type().kind() == ObjectInfo.Kind.ENUM;
        out.append("    /** The value of ").append(doc).append(". */\n");
        out.append("    public ").append(s.type()).append(" ").append(name).append("() {\n");
        String read = "read(\"" + v.name() + "\", " + v.size() + ", " + signed + ")";
        if (s.fromBits().equals("bits")) {
            out.append("        return ").append(read).append(";\n    }\n\n");
        } else {
            out.append("        long bits = ").append(read).append(";\n");
            out.append("        return ").append(s.fromBits()).append(";\n    }\n\n");
        }
        out.append("    /** Sets ").append(doc).append(when).append(". */\n");
        out.append("    public ").append("void ").append(setter).append("(").append(s.type()).append(" value) {\n");
        out.append("        write(\"").append(v.name()).append("\", ").append(v.size()).append(", ")
                .append(s.toBits()).append(");\n    }\n\n");
    }

    private static Scalar scalar(ObjectInfo.TypeInfo t, long size) {
        if (size != t.size()) {
            return null;
        }
        return switch (t.kind()) {
            case BOOL -> size == 1 ? new Scalar("boolean", "bits != 0", "value ? 1 : 0") : null;
            case SIGNED, CHAR, ENUM -> switch ((int) size) {
                case 1 -> new Scalar("byte", "(byte) bits", "value");
                case 2 -> new Scalar("short", "(short) bits", "value");
                case 4 -> new Scalar("int", "(int) bits", "value");
                case 8 -> new Scalar("long", "bits", "value");
                default -> null;
            };
            case UNSIGNED -> switch ((int) size) {
                case 1, 2 -> new Scalar("int", "(int) bits", "value");
                case 4, 8 -> new Scalar("long", "bits", "value");
                default -> null;
            };
            case FLOAT -> size == 4 ? new Scalar("float", "Float.intBitsToFloat((int) bits)",
                    "Float.floatToRawIntBits(value)")
                    : size == 8 ? new Scalar("double", "Double.longBitsToDouble(bits)",
                    "Double.doubleToRawLongBits(value)") : null;
            default -> null;
        };
    }
}
