package dev.panbpf;

import dev.panbpf.bindings.libbpf_h;
import dev.panbpf.internal.BtfCatalog;
import dev.panbpf.internal.BtfSections;
import dev.panbpf.internal.CType;
import dev.panbpf.internal.Libbpf;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;

/**
 * ObjectInfo describes an opened BPF object as its ELF and BTF declare it: its maps with their key and value
 * types, its programs with their sections, its global variables with their types, and the named structs and
 * enums of its BTF. It is what a code generator needs to write typed access to the object; nothing here needs
 * the object loaded.
 *
 * @param name the object's name
 * @param maps every map, data-section maps ({@code .rodata}, {@code .bss}...) included, in the object's order
 * @param programs every program, in the object's order
 * @param variables the global variables of the data sections
 * @param structs the names of the named structs in BTF
 * @param enums the names of the named enums in BTF
 */
public record ObjectInfo(String name, List<MapInfo> maps, List<ProgramInfo> programs, List<VariableInfo> variables,
                         List<String> structs, List<String> enums) {

    /** Kind is what a C type is, as far as choosing a Java type goes. */
    public enum Kind {
        /** A signed integer. */ SIGNED,
        /** An unsigned integer. */ UNSIGNED,
        /** A C {@code _Bool}. */ BOOL,
        /** A C {@code char}. */ CHAR,
        /** A {@code float} or {@code double}. */ FLOAT,
        /** A C enum. */ ENUM,
        /** A struct. */ STRUCT,
        /** A union. */ UNION,
        /** An array. */ ARRAY,
        /** A pointer. */ POINTER,
        /** Anything else (functions, void). */ OTHER
    }

    /**
     * TypeInfo is a C type with typedefs resolved.
     *
     * @param spelling the type as the source wrote it, such as {@code __u32} or {@code struct event}
     * @param kind what it is
     * @param size its size in bytes
     * @param name the struct, union or enum name ("" for others and for anonymous ones)
     */
    public record TypeInfo(String spelling, Kind kind, long size, String name) { }

    /**
     * MapInfo is one map.
     *
     * @param name the map's name (libbpf's, such as {@code producer.rodata} for a data section)
     * @param type the kernel's map type number ({@link MapType#of} names the common ones)
     * @param keySize the key size in bytes
     * @param valueSize the value size in bytes
     * @param maxEntries the declared size
     * @param key the key type the definition names with {@code __type(key, ...)}, or null
     * @param value the value type the definition names with {@code __type(value, ...)}, or null
     * @param tags the BTF declaration tags on the map's definition (such as {@code panbpf.record:struct event})
     * @param section the data section for a data-section map, else null
     */
    public record MapInfo(String name, int type, long keySize, long valueSize, long maxEntries, TypeInfo key,
                          TypeInfo value, List<String> tags, String section) { }

    /**
     * ProgramInfo is one program: its C function name, its ELF section and the kernel's program type number.
     *
     * @param name the C function name
     * @param section the ELF section, such as {@code "xdp"}
     * @param type the kernel's program type number (BPF_PROG_TYPE_*)
     */
    public record ProgramInfo(String name, String section, int type) { }

    /**
     * VariableInfo is one global variable.
     *
     * @param name its C name
     * @param section its data section ({@code .rodata}, {@code .data}, {@code .bss}, {@code .rodata.x}...)
     * @param offset its offset in the section
     * @param size its size in bytes
     * @param type its C type (OTHER when the BTF does not say)
     * @param tags its BTF declaration tags
     */
    public record VariableInfo(String name, String section, long offset, long size, TypeInfo type,
                               List<String> tags) {
        /** {@return whether the variable is in a read-only section, settable only before load} */
        public boolean readOnly() {
            return section.startsWith(".rodata");
        }
    }

    /** Describes {@code object}, which must be open; called under its lock. */
    static ObjectInfo of(String name, MemorySegment object) {
        BtfCatalog.Catalog c = BtfCatalog.read(libbpf_h.bpf_object__btf(object));
        List<MapInfo> maps = new ArrayList<>();
        for (MemorySegment m = libbpf_h.bpf_object__next_map(object, MemorySegment.NULL); m.address() != 0;
             m = libbpf_h.bpf_object__next_map(object, m)) {
            String n = Libbpf.string(libbpf_h.bpf_map__name(m));
            BtfCatalog.MapTypes t = c.maps().getOrDefault(n, new BtfCatalog.MapTypes(null, null));
            int dot = n.indexOf('.');
            maps.add(new MapInfo(n, libbpf_h.bpf_map__type(m), Integer.toUnsignedLong(libbpf_h.bpf_map__key_size(m)),
                    Integer.toUnsignedLong(libbpf_h.bpf_map__value_size(m)),
                    Integer.toUnsignedLong(libbpf_h.bpf_map__max_entries(m)), info(t.key()), info(t.value()),
                    c.tags().getOrDefault(n, List.of()), dot < 0 ? null : n.substring(dot)));
        }
        List<ProgramInfo> programs = new ArrayList<>();
        for (MemorySegment p = libbpf_h.bpf_object__next_program(object, MemorySegment.NULL); p.address() != 0;
             p = libbpf_h.bpf_object__next_program(object, p)) {
            programs.add(new ProgramInfo(Libbpf.string(libbpf_h.bpf_program__name(p)),
                    Libbpf.string(libbpf_h.bpf_program__section_name(p)), libbpf_h.bpf_program__type(p)));
        }
        List<VariableInfo> variables = new ArrayList<>();
        for (BtfSections.Variable v : BtfSections.variables(object).values()) {
            CType t = c.variables().get(v.name());
            variables.add(new VariableInfo(v.name(), v.section(), v.offset(), v.size(),
                    t == null ? new TypeInfo("?", Kind.OTHER, v.size(), "") : info(t),
                    c.tags().getOrDefault(v.name(), List.of())));
        }
        return new ObjectInfo(name, List.copyOf(maps), List.copyOf(programs), List.copyOf(variables), c.structs(),
                c.enums());
    }

    private static TypeInfo info(CType t) {
        if (t == null) {
            return null;
        }
        return switch (t) {
            case CType.Int i -> new TypeInfo(i.spelling(), i.isBool() ? Kind.BOOL : i.isChar() ? Kind.CHAR
                    : i.signed() ? Kind.SIGNED : Kind.UNSIGNED, i.size(), "");
            case CType.Float f -> new TypeInfo(f.spelling(), Kind.FLOAT, f.size(), "");
            case CType.Pointer p -> new TypeInfo(p.spelling(), Kind.POINTER, p.size(), "");
            case CType.Array a -> new TypeInfo(a.spelling(), Kind.ARRAY, a.size(), "");
            case CType.Struct s -> new TypeInfo(s.spelling(), s.union() ? Kind.UNION : Kind.STRUCT, s.size(), s.name());
            case CType.Enum e -> new TypeInfo(e.spelling(), Kind.ENUM, e.size(), e.name());
            case CType.Other o -> new TypeInfo(o.spelling(), Kind.OTHER, o.size(), "");
        };
    }

    /**
     * The map named {@code name}, or null.
     *
     * @param name the map's name
     * @return the map's description, or null when there is no such map
     */
    public MapInfo map(String name) {
        return maps.stream().filter(m -> m.name().equals(name)).findFirst().orElse(null);
    }
}
