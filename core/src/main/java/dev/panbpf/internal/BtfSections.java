package dev.panbpf.internal;

import dev.panbpf.bindings.btf_h;
import dev.panbpf.bindings.btf_type;
import dev.panbpf.bindings.btf_var_secinfo;
import dev.panbpf.bindings.libbpf_h;

import java.lang.foreign.MemorySegment;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * BtfSections finds the global variables of a BPF object in its BTF: every data section ({@code .rodata},
 * {@code .data}, {@code .bss}, {@code .rodata.*}, ...) has a DATASEC type listing its variables with their offset
 * and size. libbpf fixes those offsets from the ELF symbols when it opens the object.
 *
 * <pre>
 * DATASEC: | btf_type (name = section, info = kind 15 | vlen) | btf_var_secinfo[vlen]: | type | offset | size | |
 *                                                               type -&gt; VAR btf_type, name = the variable
 * </pre>
 */
public final class BtfSections {
    private BtfSections() { }

    /** A global variable: its name, its section, and where it sits in the section's data. */
    public record Variable(String name, String section, long offset, long size) { }

    /** Sections whose variables are not plain data the program reads from a map. */
    private static final java.util.Set<String> NOT_DATA = java.util.Set.of(".maps", "license", ".kconfig",
            ".ksyms");

    /** The variables of every data section of the object, by name (the first of two with the same name wins). */
    public static Map<String, Variable> variables(MemorySegment object) {
        Map<String, Variable> vars = new LinkedHashMap<>();
        MemorySegment btf = libbpf_h.bpf_object__btf(object);
        if (btf.address() == 0) {
            return vars;
        }
        int count = libbpf_h.btf__type_cnt(btf);
        for (int id = 1; id < count; id++) {
            MemorySegment t = type(btf, id);
            if (kind(btf_type.info(t)) != btf_h.BTF_KIND_DATASEC()) {
                continue;
            }
            String section = name(btf, btf_type.name_off(t));
            if (NOT_DATA.contains(section)) {
                continue;
            }
            int vlen = vlen(btf_type.info(t));
            MemorySegment infos = t.reinterpret(btf_type.sizeof() + vlen * btf_var_secinfo.sizeof())
                    .asSlice(btf_type.sizeof());
            for (int i = 0; i < vlen; i++) {
                MemorySegment si = infos.asSlice(i * btf_var_secinfo.sizeof(), btf_var_secinfo.sizeof());
                MemorySegment var = type(btf, btf_var_secinfo.type(si));
                String name = name(btf, btf_type.name_off(var));
                vars.putIfAbsent(name, new Variable(name, section, Integer.toUnsignedLong(btf_var_secinfo.offset(si)),
                        Integer.toUnsignedLong(btf_var_secinfo.size(si))));
            }
        }
        return vars;
    }

    private static MemorySegment type(MemorySegment btf, int id) {
        return libbpf_h.btf__type_by_id(btf, id).reinterpret(btf_type.sizeof());
    }

    private static String name(MemorySegment btf, int offset) {
        return Libbpf.string(libbpf_h.btf__name_by_offset(btf, offset));
    }

    /** The BTF kind in bits 24..28 of {@code btf_type.info} (BTF_INFO_KIND). */
    private static int kind(int info) {
        return (info >>> 24) & 0x1f;
    }

    /** The member/variable count in bits 0..15 of {@code btf_type.info} (BTF_INFO_VLEN). */
    private static int vlen(int info) {
        return info & 0xffff;
    }
}
