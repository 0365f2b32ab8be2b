package dev.panbpf.event;

import dev.panbpf.event.StructShape.Field;

import java.lang.foreign.MemoryLayout;
import java.lang.foreign.StructLayout;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;

/** Layouts renders a {@link StructShape} as an FFM {@link StructLayout} and as C-like text. */
final class Layouts {
    private Layouts() { }

    /** The shape as a struct layout whose members carry the component names; gaps become padding layouts. */
    static StructLayout of(StructShape shape) {
        List<MemoryLayout> members = new ArrayList<>();
        long at = 0;
        for (Field f : shape.fields()) {
            if (f.offset() > at) {
                members.add(MemoryLayout.paddingLayout(f.offset() - at));
            }
            members.add(member(f).withName(f.name()));
            at = f.offset() + f.size();
        }
        if (shape.size() > at) {
            members.add(MemoryLayout.paddingLayout(shape.size() - at));
        }
        return MemoryLayout.structLayout(members.toArray(MemoryLayout[]::new))
                .withName(shape.type().getSimpleName());
    }

    private static MemoryLayout member(Field f) {
        return switch (f.kind()) {
            case INT, ENUM -> integer(f.width());
            case CHAR -> ValueLayout.JAVA_CHAR;
            case BOOL -> ValueLayout.JAVA_BOOLEAN;
            case FLOAT -> f.width() == 4 ? ValueLayout.JAVA_FLOAT : ValueLayout.JAVA_DOUBLE;
            case STRING -> MemoryLayout.sequenceLayout(f.count(), ValueLayout.JAVA_BYTE);
            case ARRAY -> MemoryLayout.sequenceLayout(f.count(), element(f.component().getType()
                    .getComponentType()));
            case STRUCT -> of(f.nested());
        };
    }

    private static MemoryLayout element(Class<?> e) {
        return e == boolean.class ? ValueLayout.JAVA_BOOLEAN : e == char.class ? ValueLayout.JAVA_CHAR
                : e == float.class ? ValueLayout.JAVA_FLOAT : e == double.class ? ValueLayout.JAVA_DOUBLE
                : integer(e == byte.class ? 1 : e == short.class ? 2 : e == int.class ? 4 : 8);
    }

    private static ValueLayout integer(int width) {
        return switch (width) {
            case 1 -> ValueLayout.JAVA_BYTE;
            case 2 -> ValueLayout.JAVA_SHORT;
            case 4 -> ValueLayout.JAVA_INT;
            default -> ValueLayout.JAVA_LONG;
        };
    }

    /** C-like text: one line per member with its offset and size, padding shown where it falls. */
    static String describe(StructShape shape) {
        StringBuilder b = new StringBuilder();
        describe(shape, "", b);
        return b.toString();
    }

    private static void describe(StructShape shape, String indent, StringBuilder b) {
        b.append("struct ").append(shape.type().getSimpleName()).append(" {   /* size ").append(shape.size())
                .append(", align ").append(shape.align()).append(" */\n");
        long at = 0;
        for (Field f : shape.fields()) {
            if (f.offset() > at) {
                line(b, indent, padding(f.offset() - at), at, f.offset() - at);
            }
            if (f.kind() == Field.Kind.STRUCT) {
                b.append(indent).append("    ");
                describe(f.nested(), indent + "    ", b);
                b.setLength(b.length() - 2);     // reopen "};\n" to name the member after the brace
                b.append(" ").append(f.name()).append(";   /* offset ").append(f.offset()).append(", size ")
                        .append(f.size()).append(" */\n");
            } else {
                line(b, indent, cType(f) + " " + f.name() + (f.count() > 1 || f.kind() == Field.Kind.ARRAY
                        || f.kind() == Field.Kind.STRING ? "[" + f.count() + "]" : "") + ";", f.offset(), f.size());
            }
            at = f.offset() + f.size();
        }
        if (shape.size() > at) {
            line(b, indent, padding(shape.size() - at), at, shape.size() - at);
        }
        b.append(indent).append("};\n");
    }

    private static String padding(long n) {
        return "/* " + n + (n == 1 ? " byte" : " bytes") + " of padding */";
    }

    private static void line(StringBuilder b, String indent, String text, long offset, long size) {
        b.append(indent).append("    ").append(text);
        b.append(" ".repeat(Math.max(1, 36 - text.length()))).append("/* offset ").append(offset)
                .append(", size ").append(size).append(" */\n");
    }

    /** The C spelling of a field's element type. */
    static String cType(Field f) {
        return switch (f.kind()) {
            case STRING -> "char";
            case ARRAY -> {
                Class<?> e = f.component().getType().getComponentType();
                yield e == float.class ? "float" : e == double.class ? "double" : e == boolean.class ? "_Bool"
                        : (f.unsigned() ? "__u" : "__s") + (f.width() * 8);
            }
            case BOOL -> "_Bool";
            case FLOAT -> f.width() == 4 ? "float" : "double";
            case CHAR -> "__u16";
            case STRUCT -> "struct " + f.nested().type().getSimpleName();
            case ENUM -> (f.unsigned() ? "__u" : "__s") + (f.width() * 8) + " /* " + f.component().getType()
                    .getSimpleName() + " */";
            default -> (f.unsigned() ? "__u" : "__s") + (f.width() * 8);
        };
    }
}
