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
 * is a slice of our copy of libbpf's initial-value buffer, written back into that buffer when load starts, so
 * writes there become the value the program starts with. After load it is a slice of the kernel map itself,
 * mapped into this process (the maps are created BPF_F_MMAPABLE), so reads and writes are live; {@code .rodata}
 * is frozen at load and maps read-only.
 *
 * <p>No segment handed out outlives its memory: each belongs to an arena that is closed before that memory
 * goes. Pre-load views are in {@link #initial}, closed when load starts and at close. The live mappings are in
 * {@link #live}, closed before the object closes.
 *
 * <p>Closing a shared arena is not quite enough on the JDKs we run on (JDK-8364167, see
 * {@link dev.panbpf.internal.RetiredMappings}): a thread racing the close can still make one access after
 * {@code close()} returned. So every segment handed out is memory we mapped ourselves and retire rather than
 * unmap: a late access lands in a scratch page instead of faulting. That is why the pre-load views are not
 * libbpf's buffer itself: libbpf unmaps it in {@code bpf_object__close} (libbpf 1.1 mmaps it shared anonymous
 * at open and keeps it through load; from 1.5 on load remaps it over the map), out of our hands.
 */
final class Globals {
    /** How long closing waits for a native call that holds one of our segments (a map lookup into a global). */

    private final String object;
    private final Map<String, Variable> variables;
    /** Section name to libbpf's {@code struct bpf_map *}. */
    private final Map<String, MemorySegment> sectionMaps = new HashMap<>();
    /** Section name to our copy of its initial value, made on first use before load. */
    private final Map<String, MemorySegment> copies = new HashMap<>();
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

    /**
     * Invalidates every pre-load view, then writes our copies back into libbpf's buffers; load() calls it before
     * libbpf reads (and may remap) them. Every write that completed before the close is in a copy; the copies
     * stay mapped a while after the close ({@link Sys#mmapAnonymous}), so they are still readable here.
     */
    void beforeLoad() {
        closeWhenFree(initial, "global variable segments taken before load()");
        for (var e : copies.entrySet()) {
            MemorySegment data = libbpfInitialValue(e.getKey(), sectionMaps.get(e.getKey()));
            data.copyFrom(MemorySegment.ofAddress(e.getValue().address()).reinterpret(data.byteSize()));
        }
        copies.clear();
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

    /**
     * Our copy of the initial value of {@code section}, made on first use: private memory in {@link #initial},
     * written back into libbpf's buffer by {@link #beforeLoad}.
     */
    private MemorySegment initialValue(String section, MemorySegment map) {
        MemorySegment copy = copies.get(section);
        if (copy != null) {
            return copy;
        }
        MemorySegment data = libbpfInitialValue(section, map);
        long length = (data.byteSize() + Sys.PAGE_SIZE - 1) / Sys.PAGE_SIZE * Sys.PAGE_SIZE;
        copy = Sys.mmapAnonymous(initial, Math.max(length, Sys.PAGE_SIZE),
                "initial value of section " + section + " of BPF object '" + object + "'").asSlice(0, data.byteSize());
        copy.copyFrom(data);
        copies.put(section, copy);
        return copy;
    }

    /** libbpf's initial-value buffer of {@code section}: a global-scope view, never handed out. */
    private MemorySegment libbpfInitialValue(String section, MemorySegment map) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment size = a.allocate(ValueLayout.JAVA_LONG);
            MemorySegment data = libbpf_h.bpf_map__initial_value(map, size);
            if (data.address() == 0) {
                throw new BpfException("libbpf has no initial value for section " + section + " of BPF object '"
                        + object + "'");
            }
            return data.reinterpret(size.get(ValueLayout.JAVA_LONG, 0));
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
