package dev.panbpf;

import dev.panbpf.bindings.libbpf_h;
import dev.panbpf.internal.BtfTypes;
import dev.panbpf.internal.CType;
import dev.panbpf.internal.Errno;
import dev.panbpf.internal.Libbpf;
import dev.panbpf.internal.LibbpfLog;
import dev.panbpf.internal.ObjectBtf;
import dev.panbpf.internal.RingSize;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * BpfObject is a compiled BPF object ({@code .bpf.o}) opened with libbpf: open it, optionally configure it (map
 * sizes, global variables), {@link #load()} it into the kernel, then use its {@link #map maps} and
 * {@link #program programs}. Closing it detaches the links made from its programs and releases every program,
 * map and mapping it holds.
 *
 * <pre>{@code
 * try (BpfObject obj = BpfObject.openResource("dev/panbpf/bpf/producer.bpf.o")) {
 *     obj.setMaxEntries("rb", 1 << 20);
 *     obj.load();
 *     obj.program("produce").testRun(new byte[64], 1000);
 *     BpfMap counters = obj.map("counters");
 * }
 * }</pre>
 */
public final class BpfObject implements AutoCloseable {
    private final String name;
    private final Arena arena;
    private final MemorySegment object;
    private final Map<String, MemorySegment> mapPointers = new LinkedHashMap<>();
    private final Map<String, BpfProgram> programs = new LinkedHashMap<>();
    private final Map<String, BpfMap> maps = new LinkedHashMap<>();
    private final List<BpfLink> links = new ArrayList<>();
    private final Globals globals;
    private boolean loaded;
    private boolean loadFailed;
    private boolean closed;

    /** Takes over {@code object}, opened by {@link ObjectOpening} with its buffers in {@code arena}. */
    BpfObject(Arena arena, MemorySegment object) {
        this.arena = arena;
        this.object = object;
        this.name = Libbpf.string(libbpf_h.bpf_object__name(object));
        for (MemorySegment m = libbpf_h.bpf_object__next_map(object, MemorySegment.NULL); m.address() != 0;
             m = libbpf_h.bpf_object__next_map(object, m)) {
            mapPointers.put(Libbpf.string(libbpf_h.bpf_map__name(m)), m);
        }
        for (MemorySegment p = libbpf_h.bpf_object__next_program(object, MemorySegment.NULL); p.address() != 0;
             p = libbpf_h.bpf_object__next_program(object, p)) {
            BpfProgram prog = new BpfProgram(this, p);
            programs.put(prog.name(), prog);
        }
        this.globals = new Globals(name, object, mapPointers);
    }

    // ------------------------------------------------------------------------------------------------ opening

    /**
     * Opens the BPF object file {@code file} (not loaded yet); its name is the file name up to the first dot.
     *
     * @param file path of the {@code .bpf.o} file
     * @return the opened object, to be loaded
     */
    public static BpfObject open(Path file) {
        return ObjectOpening.file(file);
    }

    /**
     * Opens a BPF object from the bytes of its ELF file; {@code name} names it, up to its first dot as for files
     * ("producer.bpf.o" becomes "producer"), because libbpf prefixes its data-section maps with the name.
     *
     * @param elf the contents of a BPF ELF object file
     * @param name the object's name, or a file name to take it from
     * @return the opened object, to be loaded
     */
    public static BpfObject open(byte[] elf, String name) {
        return ObjectOpening.bytes(elf, name);
    }

    /**
     * Opens a BPF object from a class path resource such as {@code "dev/panbpf/bpf/producer.bpf.o"}, found
     * through the thread's context class loader (or panbpf's own).
     *
     * @param resource the resource path, without a leading slash
     * @return the opened object, to be loaded
     */
    public static BpfObject openResource(String resource) {
        return ObjectOpening.resource(resource);
    }

    /**
     * Opens a BPF object from a resource of {@code anchor}'s module, named as for {@link Class#getResource}.
     *
     * @param anchor a class whose module (or class loader) holds the resource
     * @param resource the resource name, relative to the package of {@code anchor} unless it starts with a slash
     * @return the opened object, to be loaded
     */
    public static BpfObject openResource(Class<?> anchor, String resource) {
        return ObjectOpening.resource(anchor, resource);
    }

    // ------------------------------------------------------------------------------------- before load

    /**
     * Sets the size of map {@code map} before load.
     *
     * @param map the map's name
     * @param maxEntries its maximum number of entries, 0 to 2^32-1 (the kernel's u32); for ring buffers the data
     *        size in bytes: a power of two and a multiple of the page size, up to 2 GiB
     * @return this object
     * @throws IllegalArgumentException if {@code maxEntries} is out of range, or not a valid ring buffer size
     * @throws BpfException if there is no such map, the object is loaded or closed, or libbpf refuses the size
     */
    public synchronized BpfObject setMaxEntries(String map, long maxEntries) {
        requireNotLoaded("resize map '" + map + "'");
        MemorySegment m = mapPointer(map);
        MapChecks.u32(map, "max entries", maxEntries);
        if (libbpf_h.bpf_map__type(m) == MapType.RINGBUF.value()
                || libbpf_h.bpf_map__type(m) == MapType.USER_RINGBUF.value()) {
            RingSize.check(map, maxEntries);
        }
        int r = libbpf_h.bpf_map__set_max_entries(m, (int) maxEntries);     // the low 32 bits are the u32
        if (r < 0) {
            throw new BpfException("resize of map '" + map + "' to " + maxEntries, -r, null);
        }
        return this;
    }

    /**
     * The memory of global variable {@code name} (in {@code .rodata}, {@code .data}, {@code .bss}...).
     *
     * <p>Before load it is the initial value (our copy, which load hands to libbpf), which may be written, and it
     * is valid only until {@link #load()} starts: from then on using it throws IllegalStateException ("Already
     * closed"), so call {@code global(name)} again after load. After load it is the live variable, valid until the object closes
     * (then using it throws IllegalStateException); {@code .rodata} and other frozen sections are read-only, and a
     * write throws instead of reaching the page.
     *
     * @param name the variable's C name
     * @return the variable's memory, as many bytes as the variable has
     * @throws BpfException if there is no such variable, or the object is closed or failed to load
     */
    public synchronized MemorySegment global(String name) {
        requireUsable("use global variable '" + name + "'");
        return globals.segment(name, loaded);
    }

    /**
     * Copies {@code value} into global variable {@code name}: before load its initial value, after load the live
     * variable.
     *
     * @param name the variable's C name
     * @param value the new bytes, as many as the variable has
     * @return this object
     * @throws IllegalArgumentException if the sizes differ
     * @throws BpfException if there is no such variable, it is read-only after load, or the object is closed or
     *         failed to load
     */
    public synchronized BpfObject setGlobal(String name, MemorySegment value) {
        requireUsable("set global variable '" + name + "'");
        globals.set(name, value, loaded);
        return this;
    }

    /**
     * Sets a 4-byte global variable.
     *
     * @param name the variable's C name
     * @param value its new value
     * @return this object
     * @throws IllegalArgumentException if the variable does not have 4 bytes
     * @throws BpfException as {@link #setGlobal(String, MemorySegment)}
     */
    public synchronized BpfObject setGlobal(String name, int value) {
        requireUsable("set global variable '" + name + "'");
        globals.set(name, value, Integer.BYTES, loaded);
        return this;
    }

    /**
     * Sets an 8-byte global variable.
     *
     * @param name the variable's C name
     * @param value its new value
     * @return this object
     * @throws IllegalArgumentException if the variable does not have 8 bytes
     * @throws BpfException as {@link #setGlobal(String, MemorySegment)}
     */
    public synchronized BpfObject setGlobal(String name, long value) {
        requireUsable("set global variable '" + name + "'");
        globals.set(name, value, Long.BYTES, loaded);
        return this;
    }

    // ------------------------------------------------------------------------------------------------- load

    /**
     * Loads the object into the kernel: creates its maps and loads its programs. Segments that {@link #global}
     * returned before are invalid from now on (call it again for the live variables).
     *
     * @return this object
     * @throws BpfVerifierException if the verifier rejected a program; it carries the verifier's log
     * @throws BpfException if the load failed otherwise (its errno says why: EPERM for privileges, EMFILE for the
     *         fd limit...), or the object is closed, already loaded, or failed to load before
     */
    public synchronized BpfObject load() {
        requireNotLoaded("load");
        if (loadFailed) {
            throw new BpfException("BPF object '" + name + "' failed to load before; close it and open it again");
        }
        // From here on libbpf reads the initial values (and newer ones remap them): no pre-load view may remain.
        globals.beforeLoad();
        loadFailed = true;               // until it succeeds, also if the call throws
        int r;
        List<String> messages;
        try (LibbpfLog.Capture c = LibbpfLog.capture()) {
            r = libbpf_h.bpf_object__load(Errno.state(), object);
            messages = c.messages();
        }
        if (r < 0) {
            throw LibbpfFailure.load(name, -r, messages);
        }
        loadFailed = false;
        loaded = true;
        for (var e : mapPointers.entrySet()) {
            maps.put(e.getKey(), MapScalars.describe(libbpf_h.bpf_map__fd(e.getValue()), e.getKey(), this));
        }
        for (BpfProgram p : programs.values()) {
            p.loaded();
        }
        return this;
    }

    // ---------------------------------------------------------------------------------------------- access

    /** {@return the object's name (from the file name or the one given to {@code open})} */
    public String name() {
        return name;
    }

    /** {@return whether {@link #load()} succeeded} */
    public synchronized boolean isLoaded() {
        return loaded;
    }

    /** {@return whether the object is closed} */
    public synchronized boolean isClosed() {
        return closed;
    }

    /**
     * The loaded map {@code name}. Data-section maps are named by libbpf (such as {@code "producer.rodata"}) and
     * can also be asked for by section name ({@code ".rodata"}).
     *
     * @param name the map's name or data section name
     * @return the map, owned by this object
     */
    public synchronized BpfMap map(String name) {
        requireOpen();
        String key = mapName(name);
        if (!loaded) {
            throw new BpfException("map '" + key + "' of BPF object '" + this.name + "' exists only after load(); "
                    + "call load() first (resize maps before it with setMaxEntries)");
        }
        return maps.get(key);
    }

    /** {@return every map of the loaded object, in the object's order} */
    public synchronized List<BpfMap> maps() {
        requireOpen();
        if (!loaded) {
            throw new BpfException("the maps of BPF object '" + name + "' exist only after load()");
        }
        return List.copyOf(maps.values());
    }

    /**
     * The program named {@code name} (its C function name); it has an fd once the object is loaded.
     *
     * @param name the program's C function name
     * @return the program, owned by this object
     */
    public synchronized BpfProgram program(String name) {
        requireOpen();
        BpfProgram p = programs.get(name);
        if (p == null) {
            throw new BpfException("no program '" + name + "' in BPF object '" + this.name + "'; its programs are "
                    + programs.keySet() + " (a program is named by its C function)");
        }
        return p;
    }

    /** {@return every program of the object, in the object's order} */
    public synchronized List<BpfProgram> programs() {
        requireOpen();
        return List.copyOf(programs.values());
    }

    private MemorySegment mapPointer(String name) {
        return mapPointers.get(mapName(name));
    }

    private String mapName(String name) {
        if (mapPointers.containsKey(name)) {
            return name;
        }
        if (name.startsWith(".")) {
            MemorySegment m = Globals.mapOf(name, mapPointers);
            for (var e : mapPointers.entrySet()) {
                if (e.getValue().equals(m)) {
                    return e.getKey();
                }
            }
        }
        throw new BpfException("no map '" + name + "' in BPF object '" + this.name + "'; its maps are "
                + mapPointers.keySet());
    }

    // ------------------------------------------------------------------------------------ package plumbing

    static {
        ObjectBtf.register(BpfObject::withBtf);
    }

    /**
     * The version of the libbpf.so.1 this JVM loaded to open objects, such as "v1.1".
     *
     * @return the version string libbpf reports
     * @throws BpfException when libbpf is missing or older than 1.0, saying what to install
     */
    public static String libbpfVersion() {
        return Libbpf.version();
    }

    /**
     * The constants of the C enum {@code name} as the object's BTF records them, by C name in declaration order:
     * what the program was really compiled with, to check a Java enum against.
     *
     * @param name the enum's C name, without {@code enum}
     * @return an unmodifiable map from constant name to value
     * @throws BpfException when the object has no BTF or no such enum (clang keeps only the types programs or
     *         maps use)
     */
    public Map<String, Long> enumConstants(String name) {
        CType.Enum e = (CType.Enum) withBtf(btf -> BtfTypes.enumeration(btf, name, toString()));
        Map<String, Long> constants = new LinkedHashMap<>();
        for (CType.Enumerator v : e.values()) {
            constants.put(v.name(), v.value());
        }
        return Collections.unmodifiableMap(constants);
    }

    /**
     * Describes the object's maps, programs, global variables and BTF types, as a code generator needs them.
     *
     * @return a snapshot of the object's maps, programs, variables and types
     * @throws BpfException if the object is closed
     */
    public synchronized ObjectInfo describe() {
        requireOpen();
        return ObjectInfo.of(name, object);
    }

    /** Runs {@code reader} on the object's BTF (NULL when it has none) while no other thread can close it. */
    private synchronized Object withBtf(Function<MemorySegment, Object> reader) {
        requireOpen();
        return reader.apply(libbpf_h.bpf_object__btf(object));
    }

    /** Keeps {@code link} to detach it when the object closes. */
    synchronized void adopt(BpfLink link) {
        links.add(link);
    }

    /** Forgets a link its user closed. */
    synchronized void forget(BpfLink link) {
        links.remove(link);
    }

    void requireOpen() {
        if (closed) {
            throw new BpfException("BPF object '" + name + "' is closed; open it again");
        }
    }

    /** Requires an open object that did not fail to load. */
    private void requireUsable(String what) {
        requireOpen();
        if (loadFailed) {
            throw new BpfException("cannot " + what + ": BPF object '" + name + "' failed to load; close it and open "
                    + "it again");
        }
    }

    void requireLoaded(String what) {
        requireOpen();
        if (!loaded) {
            throw new BpfException("cannot " + what + ": BPF object '" + name + "' is not loaded; call load() first");
        }
    }

    private void requireNotLoaded(String what) {
        requireOpen();
        if (loaded) {
            throw new BpfException("cannot " + what + ": BPF object '" + name + "' is already loaded; do it before "
                    + "load()");
        }
    }

    /**
     * Detaches this object's links and releases its programs, maps, mappings and libbpf state. Every segment that
     * {@link #global} handed out is invalidated first (using one throws IllegalStateException), so no thread can
     * touch the memory libbpf frees here.
     *
     * @throws IllegalStateException if a native call on another thread still holds a global's segment after 10 s
     *         (one passed to a map lookup, say); the object then stays open, and close can be called again
     */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        // First invalidate every global segment handed out: libbpf frees or unmaps their memory below.
        globals.close();
        closed = true;
        for (BpfLink l : List.copyOf(links)) {
            l.close();
        }
        links.clear();
        maps.values().forEach(BpfMap::release);
        programs.values().forEach(BpfProgram::release);
        libbpf_h.bpf_object__close(object);
        arena.close();
    }

    @Override
    public String toString() {
        return "BPF object '" + name + "'" + (closed ? " (closed)" : loaded ? " (loaded)" : " (open)");
    }
}
