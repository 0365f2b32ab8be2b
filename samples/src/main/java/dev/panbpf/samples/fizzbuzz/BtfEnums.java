package dev.panbpf.samples.fizzbuzz;

import dev.panbpf.bindings.btf_enum;
import dev.panbpf.bindings.btf_h;
import dev.panbpf.bindings.btf_type;
import dev.panbpf.bindings.libbpf_h;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * BtfEnums reads a C enum's constants from the BTF of a compiled BPF object, through libbpf's BTF API (the
 * object is opened, not loaded). clang -g writes every type a program or map uses into the object's .BTF
 * section, so the enum the C side really compiled with is the one compared, not a copy of its source.
 *
 * <pre>
 * BTF_KIND_ENUM: | btf_type (name, info = kind 6 | vlen, size) | btf_enum[vlen]: | name_off | val | |
 * </pre>
 */
@SuppressWarnings("restricted") // libbpf returns raw pointers into its BTF, sized here from btf_type
public final class BtfEnums {
    private BtfEnums() { }

    /** The constants of {@code enum name} in the object {@code elf}, by C name, in declaration order. */
    public static Map<String, Long> read(byte[] elf, String name) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment buf = a.allocate(elf.length);
            buf.copyFrom(MemorySegment.ofArray(elf));
            MemorySegment errno = a.allocate(libbpf_h.errnoStateLayout());
            MemorySegment obj = libbpf_h.bpf_object__open_mem(errno, buf, elf.length, MemorySegment.NULL);
            if (obj.address() == 0) {
                throw new IllegalArgumentException("libbpf could not open the BPF object to read enum " + name);
            }
            try {
                return read(libbpf_h.bpf_object__btf(obj), name, a);
            } finally {
                libbpf_h.bpf_object__close(obj);
            }
        }
    }

    private static Map<String, Long> read(MemorySegment btf, String name, Arena a) {
        if (btf.address() == 0) {
            throw new IllegalStateException("the BPF object has no BTF; compile it with clang -g");
        }
        int id = libbpf_h.btf__find_by_name_kind(btf, a.allocateFrom(name), btf_h.BTF_KIND_ENUM());
        if (id < 0) {
            throw new IllegalStateException("no enum " + name + " in the BPF object's BTF; is it used by a map or "
                    + "program (unused types are left out)?");
        }
        MemorySegment type = libbpf_h.btf__type_by_id(btf, id).reinterpret(btf_type.sizeof());
        int info = btf_type.info(type);
        int vlen = info & 0xffff;                  // BTF_INFO_VLEN
        boolean signed = (info & 0x80000000) != 0; // BTF_INFO_KFLAG: the enum's values are signed
        MemorySegment members = type.reinterpret(btf_type.sizeof() + vlen * btf_enum.sizeof())
                .asSlice(btf_type.sizeof());
        Map<String, Long> constants = new LinkedHashMap<>();
        for (int i = 0; i < vlen; i++) {
            MemorySegment e = members.asSlice(i * btf_enum.sizeof(), btf_enum.sizeof());
            String constant = libbpf_h.btf__name_by_offset(btf, btf_enum.name_off(e)).reinterpret(Integer.MAX_VALUE).getString(0);
            int v = btf_enum.val(e);
            constants.put(constant, signed ? v : Integer.toUnsignedLong(v));
        }
        return constants;
    }
}
