package dev.panbpf.codegen;

import dev.panbpf.event.RecordSource;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Names turns C names into Java names and refuses two C names that would become one Java name: a silent rename
 * would make the generated API depend on declaration order, so a clash is an error that names both sides.
 */
final class Names {
    private final String object;
    private final Map<String, String> taken = new LinkedHashMap<>();   // Java name -> what it stands for

    Names(String object) {
        this.object = object;
    }

    /** Reserves {@code javaName} for {@code what}, failing when something else has it. */
    String claim(String javaName, String what) {
        String other = taken.putIfAbsent(javaName, what);
        if (other != null) {
            throw new CodegenException("generated name clash in BPF object '" + object + "': " + what + " and "
                    + other + " would both be '" + javaName + "' in Java; rename one of them in the C source (or "
                    + "choose another class name)");
        }
        return javaName;
    }

    /** The camelCase Java member name of a C name, with keywords and Object's methods avoided by a suffix. */
    static String member(String cName) {
        String c = RecordSource.typeName(cName.replaceAll("[^A-Za-z0-9_$]", "_"));
        return RecordSource.identifier(Character.toLowerCase(c.charAt(0)) + c.substring(1));
    }

    /** The CamelCase Java type name of a C name, as RecordSource names records. */
    static String type(String cName) {
        return RecordSource.typeName(cName);
    }

    /** {@code name} with its first letter upper case, for "set" and "lookup" prefixes. */
    static String capitalized(String name) {
        return Character.toUpperCase(name.charAt(0)) + name.substring(1);
    }
}
