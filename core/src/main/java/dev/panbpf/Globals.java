package dev.panbpf;

import dev.panbpf.bindings.bpf_h;
import dev.panbpf.bindings.errno_h;
import dev.panbpf.bindings.libbpf_h;
import dev.panbpf.bindings.sys_mman_h;
import dev.panbpf.internal.Arenas;
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
 *
 * <p>No segment handed out outlives its memory: each belongs to an arena that is closed before that memory
 * goes. Pre-load views are in {@link #initial}, closed when load starts (libbpf reads the buffer then, and from
 * libbpf 1.5 on remaps it over the map, read-only for {@code .rodata}) and before libbpf frees it at close. The
 * live mappings are in {@link #live}, closed, and so unmapped, before the object closes.
 */
final class Globals {
    /** How long closing waits for a native call that holds one of our segments (a map lookup into a global). */

    private final String object;
    private final Map<String, Variable> variables;
    /** Section name to libbpf's {@code struct bpf_map *}. */
    private final Map<String, MemorySegment> sectionMaps = new HashMap<>();
    /** Section name to its live mapping, made on first use after load. */
    private final Map<String, MemorySegment> mappings = new HashMap<>();
    /** The scope of the views of libbpf's initial-value buffers. */
    private final Arena initial = Arena.ofShared();
    /** The scope of the live mappings; made with the first one. */
    private Arena live;

    Globals(String object, MemorySegment obj, Map<String, MemorySegment> maps) {
        this.object = object;
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

    /**
     * The memory of {@code name}: before load a view of the initial value (valid until load starts), after load
     * the live variable (valid until the object closes; read-only for frozen sections).
     */
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

    /** Invalidates every pre-load view; load() calls it before libbpf reads (and may remap) the buffers. */
    void beforeLoad() {
        closeWhenFree(initial, "global variable segments taken before load()");
    }

    /** Invalidates every segment handed out, then unmaps the live mappings; runs before libbpf frees the object. */
    void close() {
        closeWhenFree(initial, "global variable segments taken before load()");
        if (live != null) {
            closeWhenFree(live, "global variable segments");
        }
    }

    private void closeWhenFree(Arena arena, String what) {
        Arenas.closeWhenFree(arena, "BPF object '" + object + "': " + what);
    }

    private MemorySegment initialValue(String section, MemorySegment map) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment size = a.allocate(ValueLayout.JAVA_LONG);
            MemorySegment data = libbpf_h.bpf_map__initial_value(map, size);
            if (data.address() == 0) {
                throw new BpfException("libbpf has no initial value for section " + section + " of BPF object '"
                        + object + "'");
            }
            return data.reinterpret(size.get(ValueLayout.JAVA_LONG, 0), initial, null);
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
        // libbpf marks .rodata (and .kconfig) BPF_F_RDONLY_PROG and freezes it at load: the kernel then refuses a
        // writable mapping, and a read-only page must never sit behind a writable segment.
        int flags = libbpf_h.bpf_map__map_flags(map);
        boolean readOnly = section.startsWith(".rodata")
                || (flags & (bpf_h.BPF_F_RDONLY_PROG() | bpf_h.BPF_F_RDONLY())) != 0;
        long valueSize = Integer.toUnsignedLong(libbpf_h.bpf_map__value_size(map));
        long length = (valueSize + Sys.PAGE_SIZE - 1) / Sys.PAGE_SIZE * Sys.PAGE_SIZE;
        if (live == null) {
            live = Arena.ofShared();
        }
        int fd = libbpf_h.bpf_map__fd(map);
        String what = "section " + section + " of BPF object '" + object + "'";
        int read = sys_mman_h.PROT_READ();
        if (!readOnly) {
            try {
                m = Sys.mmap(live, length, read | sys_mman_h.PROT_WRITE(), fd, 0, what);
            } catch (BpfException e) {
                if (e.errno() != errno_h.EPERM()) {
                    throw e;
                }
                readOnly = true;         // frozen by someone else: the kernel only lets us read it
            }
        }
        if (readOnly) {
            m = Sys.mmap(live, length, read, fd, 0, what).asReadOnly();
        }
        m = m.asSlice(0, valueSize);
        mappings.put(section, m);
        return m;
    }
}
