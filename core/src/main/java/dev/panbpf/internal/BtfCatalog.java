package dev.panbpf.internal;

import dev.panbpf.bindings.btf_h;
import dev.panbpf.bindings.btf_member;
import dev.panbpf.bindings.btf_type;
import dev.panbpf.bindings.btf_var_secinfo;
import dev.panbpf.bindings.libbpf_h;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * BtfCatalog lists what a code generator needs from a BPF object's BTF beyond single types: the key and value
 * types that map definitions name, the types of global variables, the declaration tags on variables, and the
 * named structs and enums.
 *
 * <pre>
 * DATASEC ".maps": | btf_var_secinfo[]: type -&gt; VAR (name = the map) -&gt; anonymous STRUCT:
 *                    | member "type" | member "key" -&gt; PTR -&gt; key type | member "value" -&gt; PTR -&gt; value type |
 * DECL_TAG:        | name_off = the tag text | type = the tagged VAR | component_idx s32 (-1: the VAR itself) |
 * </pre>
 * ({@code __type(key, T)} in bpf_helpers.h declares {@code T *key}; a tag comes from
 * {@code __attribute__((btf_decl_tag("...")))})
 */
public final class BtfCatalog {
    private final MemorySegment btf;

    private BtfCatalog(MemorySegment btf) {
        this.btf = btf;
    }

    /** The key and value types a map definition names, either null when it gives only sizes. */
    public record MapTypes(CType key, CType value) { }

    /** What the catalog found; empty maps and lists when the object has no BTF. */
    public record Catalog(Map<String, MapTypes> maps, Map<String, CType> variables, Map<String, List<String>> tags,
                          List<String> structs, List<String> enums) { }

    /** Reads the catalog of {@code btf} (NULL for none). */
    public static Catalog read(MemorySegment btf) {
        if (btf.address() == 0) {
            return new Catalog(Map.of(), Map.of(), Map.of(), List.of(), List.of());
        }
        return new BtfCatalog(btf).read();
    }

    private Catalog read() {
        Map<String, MapTypes> maps = new LinkedHashMap<>();
        Map<String, CType> variables = new LinkedHashMap<>();
        Map<String, List<String>> tags = new LinkedHashMap<>();
        List<String> structs = new ArrayList<>();
        List<String> enums = new ArrayList<>();
        int count = libbpf_h.btf__type_cnt(btf);
        for (int id = 1; id < count; id++) {
            MemorySegment t = type(id, 0);
            int kind = kind(t);
            String name = name(btf_type.name_off(t));
            if (kind == btf_h.BTF_KIND_DATASEC()) {
                datasec(id, t, name.equals(".maps") ? maps : null, variables);
            } else if (kind == btf_h.BTF_KIND_DECL_TAG()) {
                MemorySegment target = type(btf_type.type(t), 0);
                // component_idx -1 (0xffffffff) tags the variable itself, not one of its members.
                if (kind(target) == btf_h.BTF_KIND_VAR() && type(id, 4).get(java.lang.foreign.ValueLayout.JAVA_INT,
                        btf_type.sizeof()) == -1) {
                    tags.computeIfAbsent(name(btf_type.name_off(target)), k -> new ArrayList<>()).add(name);
                }
            } else if (kind == btf_h.BTF_KIND_STRUCT() && !name.isEmpty() && !structs.contains(name)) {
                structs.add(name);
            } else if ((kind == btf_h.BTF_KIND_ENUM() || kind == btf_h.BTF_KIND_ENUM64()) && !name.isEmpty()
                    && !enums.contains(name)) {
                enums.add(name);
            }
        }
        return new Catalog(maps, variables, tags, List.copyOf(structs), List.copyOf(enums));
    }

    /** Adds the variables of one DATASEC: map definitions to {@code maps} when given, else to {@code variables}. */
    private void datasec(int id, MemorySegment t, Map<String, MapTypes> maps, Map<String, CType> variables) {
        int vlen = vlen(t);
        MemorySegment infos = type(id, vlen * btf_var_secinfo.sizeof()).asSlice(btf_type.sizeof());
        for (int i = 0; i < vlen; i++) {
            MemorySegment si = infos.asSlice(i * btf_var_secinfo.sizeof(), btf_var_secinfo.sizeof());
            MemorySegment var = type(btf_var_secinfo.type(si), 0);
            String name = name(btf_type.name_off(var));
            if (maps != null) {
                maps.putIfAbsent(name, mapTypes(btf_type.type(var)));
            } else {
                variables.putIfAbsent(name, BtfTypes.resolve(btf, btf_type.type(var)));
            }
        }
    }

    /** The types behind the "key" and "value" pointer members of a map definition struct. */
    private MapTypes mapTypes(int definition) {
        MemorySegment t = type(definition, 0);
        if (kind(t) != btf_h.BTF_KIND_STRUCT()) {
            return new MapTypes(null, null);
        }
        int vlen = vlen(t);
        MemorySegment ms = type(definition, (long) vlen * btf_member.sizeof()).asSlice(btf_type.sizeof());
        CType key = null;
        CType value = null;
        for (int i = 0; i < vlen; i++) {
            MemorySegment m = ms.asSlice(i * btf_member.sizeof(), btf_member.sizeof());
            String member = name(btf_member.name_off(m));
            MemorySegment mt = type(btf_member.type(m), 0);
            if (kind(mt) != btf_h.BTF_KIND_PTR() || !(member.equals("key") || member.equals("value"))) {
                continue;
            }
            CType target = BtfTypes.resolve(btf, btf_type.type(mt));
            if (member.equals("key")) {
                key = target;
            } else {
                value = target;
            }
        }
        return new MapTypes(key, value);
    }

    private MemorySegment type(int id, long extra) {
        return libbpf_h.btf__type_by_id(btf, id).reinterpret(btf_type.sizeof() + extra);
    }

    private String name(int offset) {
        return Libbpf.string(libbpf_h.btf__name_by_offset(btf, offset));
    }

    private static int kind(MemorySegment t) {
        return (btf_type.info(t) >>> 24) & 0x1f;
    }

    private static int vlen(MemorySegment t) {
        return btf_type.info(t) & 0xffff;
    }
}
