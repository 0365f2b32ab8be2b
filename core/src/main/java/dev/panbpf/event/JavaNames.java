package dev.panbpf.event;

import java.util.Set;

/** JavaNames turns C names into Java ones for the generated records: camelCase, and never a keyword. */
final class JavaNames {
    private static final Set<String> KEYWORDS = Set.of("abstract", "assert", "boolean", "break", "byte", "case",
            "catch", "char", "class", "const", "continue", "default", "do", "double", "else", "enum", "extends",
            "final", "finally", "float", "for", "goto", "if", "implements", "import", "instanceof", "int",
            "interface", "long", "native", "new", "package", "private", "protected", "public", "return", "short",
            "static", "strictfp", "super", "switch", "synchronized", "this", "throw", "throws", "transient", "try",
            "void", "volatile", "while", "true", "false", "null", "record", "var", "yield", "sealed", "permits");

    private JavaNames() { }

    /** A record component's name for C member {@code cName}. */
    static String component(String cName) {
        return identifier(camel(cName, false));
    }

    /** snake_case to camelCase ({@code upper}: CamelCase); leading underscores dropped. */
    static String camel(String s, boolean upper) {
        StringBuilder b = new StringBuilder();
        boolean up = upper;
        for (char ch : s.toCharArray()) {
            if (ch == '_') {
                up = b.length() > 0 || upper;
                continue;
            }
            b.append(up ? Character.toUpperCase(ch) : b.length() == 0 ? Character.toLowerCase(ch) : ch);
            up = false;
        }
        return b.length() == 0 ? (upper ? "Struct" : "field") : b.toString();
    }

    static String identifier(String s) {
        String id = Character.isJavaIdentifierStart(s.charAt(0)) ? s : "_" + s;
        return KEYWORDS.contains(id) ? id + "_" : id;
    }
}
