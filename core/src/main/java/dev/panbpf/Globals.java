package dev.panbpf;

import dev.panbpf.bindings.bpf_h;
import dev.panbpf.bindings.libbpf_h;
import dev.panbpf.bindings.sys_mman_h;
import dev.panbpf.internal.BtfSections;
import dev.panbpf.internal.BtfSections.Variable;
import dev.panbpf.internal.Libbpf;
import dev.panbpf.internal.Sys;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.HashMap;
import java.util.Map;
import java.util.TreeSet;

/**
 * Globals gives access to a BPF object's global variables. libbpf keeps each data section ({@code .rodata},
 * {@code .data}, {@code .bss}, ...) in a one-entry array map whose value is the section. Before load, a variable
 * is a slice of libbpf's initial-value buffer, so writes there become the value the program starts with. After
 * load it is a slice of the kernel map itself, mapped into this process (the maps are created BPF_F_MMAPABLE),
 * so reads and writes are live; {@code .rodata} is frozen at load and maps read-only.
 */
final class Globals {
    private final String object;
    private final Arena arena;
    private final Map<String, Variable> variables;
    /** Section name to libbpf's {@code struct bpf_map *}. */
    private final Map<String, MemorySegment> sectionMaps = new HashMap<>();
    /** Section name to its live mapping, made on first use after load. */
    private final Map<String, MemorySegment> mappings = new HashMap<>();

    Globals(String object, MemorySegment obj, Map<String, MemorySegment> maps, Arena arena) {
        this.object = object;
        this.arena = arena;
        this.variables = BtfSections.variables(obj);
        for (Variable v : variables.values()) {
            sectionMaps.computeIfAbsent(v.section(), s -> mapOf(s, maps));
        }
    }

    /**
     * The internal map of {@code section}. libbpf names it with up to 8 characters of the object's name (which
     * has no dot) followed by the section name, or the section name alone for custom ".rodata.x" sections, and
     * cuts the result to 15 characters: so the section starts at the name's first dot.
     */
    static MemorySegment mapOf(String section, Map<String, MemorySegment> maps) {
        for (var e : maps.entrySet()) {
            int dot = e.getKey().indexOf('.');
            String suffix = dot < 0 ? "" : e.getKey().substring(dot);
            if (!suffix.isEmpty() && (section.equals(suffix)
                    || e.getKey().length() == bpf_h.BPF_OBJ_NAME_LEN() - 1 && section.startsWith(suffix))) {
                return e.getValue();
            }
        }
        return null;
    }

    /** The memory of {@code name}; before load the initial value, after load the live variable. */
    MemorySegment segment(String name, boolean loaded) {
        Variable v = variables.get(name);
        if (v == null) {
            throw new BpfException("no global variable '" + name + "' in BPF object '" + object + "'; it has "
                    + (variables.isEmpty() ? "none" : new TreeSet<>(variables.keySet()))
                    + " (variables need BTF, i.e. clang -g, and must be used by a program to be kept)");
        }
        MemorySegment map = sectionMaps.get(v.section());
        if (map == null) {
            throw new BpfException("global variable '" + name + "' is in section " + v.section()
                    + " that libbpf made no map for");
        }
        MemorySegment section = loaded ? mapping(v.section(), map) : initialValue(v.section(), map);
        return section.asSlice(v.offset(), v.size());
    }

    /** Copies {@code value} into the variable {@code name}, whose size it must have. */
    void set(String name, MemorySegment value, boolean loaded) {
        MemorySegment target = segment(name, loaded);
        if (target.isReadOnly()) {
            throw new BpfException("global variable '" + name + "' is in " + variables.get(name).section()
                    + ", which is read-only once loaded; set it before load()");
        }
        if (value.byteSize() != target.byteSize()) {
            throw new IllegalArgumentException("global variable '" + name + "' has " + target.byteSize()
                    + " bytes; the value given has " + value.byteSize());
        }
        target.copyFrom(value);
    }

    /** Sets a variable from a Java primitive of the right width. */
    void set(String name, long value, int bytes, boolean loaded) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment v = a.allocate(bytes);
            if (bytes == 4) {
                v.set(ValueLayout.JAVA_INT, 0, (int) value);
            } else {
                v.set(ValueLayout.JAVA_LONG, 0, value);
            }
            set(name, v, loaded);
        }
    }

    private MemorySegment initialValue(String section, MemorySegment map) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment size = a.allocate(ValueLayout.JAVA_LONG);
            MemorySegment data = libbpf_h.bpf_map__initial_value(map, size);
            if (data.address() == 0) {
                throw new BpfException("libbpf has no initial value for section " + section + " of BPF object '"
                        + object + "'");
            }
            return data.reinterpret(size.get(ValueLayout.JAVA_LONG, 0), arena, null);
        }
    }

    private MemorySegment mapping(String section, MemorySegment map) {
        MemorySegment m = mappings.get(section);
        if (m != null) {
            return m;
        }
        if ((libbpf_h.bpf_map__map_flags(map) & bpf_h.BPF_F_MMAPABLE()) == 0) {
            throw new BpfException("section " + section + " of BPF object '" + object + "' is not mappable; read "
                    + "it through map(\"" + Libbpf.string(libbpf_h.bpf_map__name(map)) + "\").lookup(...)");
        }
        boolean readOnly = section.startsWith(".rodata");
        long valueSize = Integer.toUnsignedLong(libbpf_h.bpf_map__value_size(map));
        long length = (valueSize + Sys.PAGE_SIZE - 1) / Sys.PAGE_SIZE * Sys.PAGE_SIZE;
        int prot = sys_mman_h.PROT_READ() | (readOnly ? 0 : sys_mman_h.PROT_WRITE());
        m = Sys.mmap(arena, length, prot, libbpf_h.bpf_map__fd(map), 0, "section " + section).asSlice(0, valueSize);
        if (readOnly) {
            m = m.asReadOnly();
        }
        mappings.put(section, m);
        return m;
    }
}
