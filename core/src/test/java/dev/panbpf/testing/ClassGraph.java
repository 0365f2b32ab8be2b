package dev.panbpf.testing;

import java.io.ByteArrayInputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * ClassGraph reads compiled class files and says which source files use which: a class file names every class it
 * uses in its constant pool (as a class entry or inside a type descriptor), so the graph is what the code really
 * depends on, not what its imports say. Nested classes count as their outer file.
 */
public final class ClassGraph {
    private static final Pattern NAME = Pattern.compile("(dev/panbpf/[\\w/$]+)");

    /** file (dev.panbpf.ringbuf.RingBuffer) to the other files it uses. */
    private final Map<String, Set<String>> uses = new TreeMap<>();

    private ClassGraph() { }

    /** The graph of every class under {@code root} (a classes directory). */
    public static ClassGraph of(Path root) throws IOException {
        ClassGraph g = new ClassGraph();
        try (Stream<Path> files = Files.walk(root)) {
            for (Path p : files.filter(f -> f.toString().endsWith(".class")).toList()) {
                String name = root.relativize(p).toString().replace(".class", "");
                if (name.endsWith("module-info") || name.endsWith("package-info")) {
                    continue;
                }
                String file = fileOf(name);
                Set<String> deps = g.uses.computeIfAbsent(file, k -> new TreeSet<>());
                for (String d : names(Files.readAllBytes(p))) {
                    String f = fileOf(d);
                    if (!f.equals(file)) {
                        deps.add(f);
                    }
                }
            }
        }
        g.uses.values().forEach(d -> d.retainAll(g.uses.keySet()));
        return g;
    }

    /** The files, by dotted name. */
    public Set<String> files() {
        return uses.keySet();
    }

    /** The files {@code file} uses. */
    public Set<String> uses(String file) {
        return uses.getOrDefault(file, Set.of());
    }

    /** The sets of two or more files that use each other in a circle (strongly connected components). */
    public List<List<String>> cycles() {
        Tarjan t = new Tarjan();
        for (String v : uses.keySet()) {
            if (!t.index.containsKey(v)) {
                t.visit(v);
            }
        }
        return t.components.stream().filter(c -> c.size() > 1).toList();
    }

    private final class Tarjan {
        final Map<String, Integer> index = new HashMap<>();
        final Map<String, Integer> low = new HashMap<>();
        final Deque<String> stack = new ArrayDeque<>();
        final Set<String> onStack = new TreeSet<>();
        final List<List<String>> components = new ArrayList<>();
        int next;

        void visit(String v) {
            index.put(v, next);
            low.put(v, next++);
            stack.push(v);
            onStack.add(v);
            for (String w : uses(v)) {
                if (!index.containsKey(w)) {
                    visit(w);
                    low.put(v, Math.min(low.get(v), low.get(w)));
                } else if (onStack.contains(w)) {
                    low.put(v, Math.min(low.get(v), index.get(w)));
                }
            }
            if (low.get(v).equals(index.get(v))) {
                List<String> c = new ArrayList<>();
                String w;
                do {
                    w = stack.pop();
                    onStack.remove(w);
                    c.add(w);
                } while (!w.equals(v));
                components.add(c.stream().sorted().toList());
            }
        }
    }

    private static String fileOf(String internalName) {
        int nested = internalName.indexOf('$');
        return (nested < 0 ? internalName : internalName.substring(0, nested)).replace('/', '.');
    }

    /** Every dev/panbpf class named in the constant pool of a class file. */
    private static Set<String> names(byte[] classFile) throws IOException {
        DataInputStream in = new DataInputStream(new ByteArrayInputStream(classFile));
        in.readInt();               // magic
        in.readUnsignedShort();     // minor
        in.readUnsignedShort();     // major
        int count = in.readUnsignedShort();
        Set<String> found = new TreeSet<>();
        Matcher m = NAME.matcher("");
        for (int i = 1; i < count; i++) {
            int tag = in.readUnsignedByte();
            switch (tag) {
                case 1 -> {         // Utf8: class names and descriptors live here
                    m.reset(in.readUTF());
                    while (m.find()) {
                        found.add(m.group(1));
                    }
                }
                case 7, 8, 16, 19, 20 -> in.readUnsignedShort();
                case 15 -> in.skipBytes(3);
                case 3, 4, 9, 10, 11, 12, 17, 18 -> in.readInt();
                case 5, 6 -> {      // long and double take two slots
                    in.readLong();
                    i++;
                }
                default -> throw new IOException("unknown constant pool tag " + tag);
            }
        }
        return found;
    }
}
