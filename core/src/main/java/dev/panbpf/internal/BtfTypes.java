package dev.panbpf.internal;

import dev.panbpf.BpfException;
import dev.panbpf.bindings.btf_array;
import dev.panbpf.bindings.btf_enum;
import dev.panbpf.bindings.btf_h;
import dev.panbpf.bindings.btf_member;
import dev.panbpf.bindings.btf_type;
import dev.panbpf.bindings.libbpf_h;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;

/**
 * BtfTypes reads C types out of a {@code struct btf} through libbpf's btf API and resolves them into
 * {@link CType}s: typedefs, const, volatile, restrict and type tags are followed; pointers are not.
 *
 * <pre>
 * btf_type:     | name_off u32 | info u32 | size/type u32 | then, by kind:
 *   info:       | kflag (bit 31) | kind (bits 24..28) | vlen (bits 0..15) |
 *   INT:        | encoding u32: encoding (bits 24..27: SIGNED 1, CHAR 2, BOOL 4) | offset (16..23) | bits (0..7) |
 *   ARRAY:      | btf_array: type | index_type | nelems |
 *   STRUCT/UNION: btf_member[vlen]: | name_off | type | offset |   offset is in bits; with kflag set it is
 *                 | bitfield size (bits 24..31) | bit offset (bits 0..23) |
 *   ENUM:       btf_enum[vlen]:   | name_off | val s32 |         (kflag set: the values are signed)
 *   ENUM64:     btf_enum64[vlen]: | name_off | val_lo32 | val_hi32 |
 * </pre>
 * (from include/uapi/linux/btf.h)
 */
public final class BtfTypes {
    private static final int KIND_SHIFT = 24;
    private static final int KIND_MASK = 0x1f;
    private static final int VLEN_MASK = 0xffff;
    private static final int KFLAG_SHIFT = 31;
    private static final int INT_ENCODING_SHIFT = 24;
    private static final int INT_ENCODING_MASK = 0x0f;
    private static final int INT_OFFSET_SHIFT = 16;
    private static final int INT_OFFSET_MASK = 0xff;
    private static final int INT_BITS_MASK = 0xff;
    private static final int MEMBER_BITFIELD_SHIFT = 24;
    private static final int MEMBER_BIT_OFFSET_MASK = 0xffffff;
    private static final long ENUM64_SIZE = 12;
    private static final long ENUM64_LO = 4;
    private static final long ENUM64_HI = 8;
    /** Nesting deeper than this is a cycle panbpf cannot print (only pointers may legally make one). */
    private static final int MAX_DEPTH = 64;

    private final MemorySegment btf;

    private BtfTypes(MemorySegment btf) {
        this.btf = btf;
    }

    /**
     * Resolves the struct (or union, or typedef of one) named {@code name} in {@code btf}; {@code owner} names
     * the BPF object for errors. Throws a {@link BpfException} listing the structs there are when it is missing.
     */
    public static CType.Struct struct(MemorySegment btf, String name, String owner) {
        if (btf.address() == 0) {
            throw new BpfException(owner + " has no BTF, so its structs cannot be read; compile it with clang -g "
                    + "(and keep .BTF when stripping)");
        }
        BtfTypes t = new BtfTypes(btf);
        int id = t.find(name);
        if (id <= 0) {
            throw new BpfException(owner + " has no struct '" + name + "' in its BTF; it has " + t.structNames());
        }
        CType c = t.resolve(id, null, 0);
        if (!(c instanceof CType.Struct s)) {
            throw new BpfException("'" + name + "' in " + owner + " is " + c.spelling() + ", not a struct");
        }
        return s;
    }

    /**
     * Resolves the enum (or enum64, or typedef of one) named {@code name} in {@code btf}; {@code owner} names the
     * BPF object for errors.
     */
    public static CType.Enum enumeration(MemorySegment btf, String name, String owner) {
        if (btf.address() == 0) {
            throw new BpfException(owner + " has no BTF, so its enums cannot be read; compile it with clang -g "
                    + "(and keep .BTF when stripping)");
        }
        BtfTypes t = new BtfTypes(btf);
        int id = t.find(name, btf_h.BTF_KIND_ENUM(), btf_h.BTF_KIND_ENUM64(), btf_h.BTF_KIND_TYPEDEF());
        CType c = id <= 0 ? null : t.resolve(id, null, 0);
        if (!(c instanceof CType.Enum e)) {
            throw new BpfException(owner + " has no enum '" + name + "' in its BTF; clang keeps only the types a map "
                    + "or program uses, so use the enum in one");
        }
        return e;
    }

    /** Resolves BTF type {@code id} of {@code btf} (not NULL) into a CType, typedefs and qualifiers followed. */
    public static CType resolve(MemorySegment btf, int id) {
        return new BtfTypes(btf).resolve(id, null, 0);
    }

    private int find(String name) {
        return find(name, btf_h.BTF_KIND_STRUCT(), btf_h.BTF_KIND_UNION(), btf_h.BTF_KIND_TYPEDEF());
    }

    private int find(String name, int... kinds) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment n = a.allocateFrom(name);
            for (int kind : kinds) {
                int id = libbpf_h.btf__find_by_name_kind(btf, n, kind);
                if (id > 0) {
                    return id;
                }
            }
            return -1;
        }
    }

    /** The names of the named structs, for "did you mean" errors. */
    private List<String> structNames() {
        List<String> names = new ArrayList<>();
        int count = libbpf_h.btf__type_cnt(btf);
        for (int id = 1; id < count; id++) {
            MemorySegment t = type(id, 0);
            if (kind(t) == btf_h.BTF_KIND_STRUCT() && btf_type.name_off(t) != 0) {
                names.add(name(btf_type.name_off(t)));
            }
        }
        return names;
    }

    private CType resolve(int id, String spelling, int depth) {
        if (depth > MAX_DEPTH) {
            throw new BpfException("BTF type " + id + " nests deeper than " + MAX_DEPTH + " levels");
        }
        if (id == 0) {
            return new CType.Other(spelling == null ? "void" : spelling, 0);
        }
        MemorySegment t = type(id, 0);
        int kind = kind(t);
        String own = name(btf_type.name_off(t));
        String spell = spelling != null ? spelling : spell(id, 0);
        if (kind == btf_h.BTF_KIND_TYPEDEF()) {
            return resolve(btf_type.type(t), spelling != null ? spelling : own, depth + 1);
        }
        if (kind == btf_h.BTF_KIND_CONST() || kind == btf_h.BTF_KIND_VOLATILE() || kind == btf_h.BTF_KIND_RESTRICT()
                || kind == btf_h.BTF_KIND_TYPE_TAG()) {
            return resolve(btf_type.type(t), spell, depth + 1);
        }
        if (kind == btf_h.BTF_KIND_INT()) {
            int enc = type(id, 4).get(ValueLayout.JAVA_INT, btf_type.sizeof());
            int encoding = (enc >>> INT_ENCODING_SHIFT) & INT_ENCODING_MASK;
            return new CType.Int(spell, btf_type.size(t), (encoding & btf_h.BTF_INT_SIGNED()) != 0,
                    (encoding & btf_h.BTF_INT_CHAR()) != 0 || own.equals("char"),
                    (encoding & btf_h.BTF_INT_BOOL()) != 0);
        }
        if (kind == btf_h.BTF_KIND_FLOAT()) {
            return new CType.Float(spell, btf_type.size(t));
        }
        if (kind == btf_h.BTF_KIND_PTR()) {
            return new CType.Pointer(spell, Long.BYTES);
        }
        if (kind == btf_h.BTF_KIND_ARRAY()) {
            MemorySegment arr = type(id, btf_array.sizeof()).asSlice(btf_type.sizeof());
            return new CType.Array(spell, resolve(btf_array.type(arr), null, depth + 1),
                    Integer.toUnsignedLong(btf_array.nelems(arr)));
        }
        if (kind == btf_h.BTF_KIND_STRUCT() || kind == btf_h.BTF_KIND_UNION()) {
            return struct(id, t, own, spell, depth);
        }
        if (kind == btf_h.BTF_KIND_ENUM() || kind == btf_h.BTF_KIND_ENUM64()) {
            return enumeration(id, t, own, spell, kind == btf_h.BTF_KIND_ENUM64());
        }
        return new CType.Other(spell, Math.max(0, libbpf_h.btf__resolve_size(btf, id)));
    }

    private CType.Struct struct(int id, MemorySegment t, String own, String spell, int depth) {
        int vlen = vlen(t);
        boolean kflag = kflag(t);
        MemorySegment ms = type(id, (long) vlen * btf_member.sizeof()).asSlice(btf_type.sizeof());
        List<CType.Member> members = new ArrayList<>(vlen);
        for (int i = 0; i < vlen; i++) {
            MemorySegment m = ms.asSlice(i * btf_member.sizeof(), btf_member.sizeof());
            int raw = btf_member.offset(m);
            long bitOffset = kflag ? raw & MEMBER_BIT_OFFSET_MASK : Integer.toUnsignedLong(raw);
            int bitfield = kflag ? raw >>> MEMBER_BITFIELD_SHIFT : 0;
            CType type = resolve(btf_member.type(m), null, depth + 1);
            if (!kflag && type instanceof CType.Int && intIsPartial(btf_member.type(m))) {
                bitfield = intBits(btf_member.type(m));
            }
            members.add(new CType.Member(name(btf_member.name_off(m)), bitOffset, bitfield, type));
        }
        return new CType.Struct(spell, own, kind(t) == btf_h.BTF_KIND_UNION(), btf_type.size(t), List.copyOf(members));
    }

    private CType.Enum enumeration(int id, MemorySegment t, String own, String spell, boolean is64) {
        int vlen = vlen(t);
        long each = is64 ? ENUM64_SIZE : btf_enum.sizeof();
        MemorySegment es = type(id, vlen * each).asSlice(btf_type.sizeof());
        boolean signed = kflag(t);
        List<CType.Enumerator> values = new ArrayList<>(vlen);
        for (int i = 0; i < vlen; i++) {
            MemorySegment e = es.asSlice(i * each, each);
            long v;
            if (is64) {
                v = Integer.toUnsignedLong(e.get(ValueLayout.JAVA_INT, ENUM64_LO))
                        | ((long) e.get(ValueLayout.JAVA_INT, ENUM64_HI) << 32);
            } else {
                v = signed ? btf_enum.val(e) : Integer.toUnsignedLong(btf_enum.val(e));
            }
            values.add(new CType.Enumerator(name(btf_enum.name_off(e)), v));
        }
        return new CType.Enum(spell, own, btf_type.size(t), signed, List.copyOf(values));
    }

    /** An INT type (through typedefs and qualifiers) whose bits do not fill its size: a bitfield's type. */
    private boolean intIsPartial(int id) {
        int base = skipQualifiers(id);
        int enc = type(base, 4).get(ValueLayout.JAVA_INT, btf_type.sizeof());
        int bits = enc & INT_BITS_MASK;
        int offset = (enc >>> INT_OFFSET_SHIFT) & INT_OFFSET_MASK;
        return offset != 0 || bits != btf_type.size(type(base, 0)) * 8;
    }

    private int intBits(int id) {
        return type(skipQualifiers(id), 4).get(ValueLayout.JAVA_INT, btf_type.sizeof()) & INT_BITS_MASK;
    }

    private int skipQualifiers(int id) {
        for (int i = 0; i < MAX_DEPTH; i++) {
            MemorySegment t = type(id, 0);
            int k = kind(t);
            if (k != btf_h.BTF_KIND_TYPEDEF() && k != btf_h.BTF_KIND_CONST() && k != btf_h.BTF_KIND_VOLATILE()
                    && k != btf_h.BTF_KIND_RESTRICT() && k != btf_h.BTF_KIND_TYPE_TAG()) {
                return id;
            }
            id = btf_type.type(t);
        }
        return id;
    }

    /** The type as the source spells it, without resolving members: "__u32", "struct foo", "char[16]". */
    private String spell(int id, int depth) {
        if (id == 0) {
            return "void";
        }
        MemorySegment t = type(id, 0);
        int kind = kind(t);
        String own = name(btf_type.name_off(t));
        if (depth > MAX_DEPTH) {
            return "?";
        }
        if (kind == btf_h.BTF_KIND_STRUCT() || kind == btf_h.BTF_KIND_UNION()) {
            return (kind == btf_h.BTF_KIND_UNION() ? "union " : "struct ") + (own.isEmpty() ? "{...}" : own);
        }
        if (kind == btf_h.BTF_KIND_ENUM() || kind == btf_h.BTF_KIND_ENUM64()) {
            return "enum " + (own.isEmpty() ? "{...}" : own);
        }
        if (kind == btf_h.BTF_KIND_PTR()) {
            return spell(btf_type.type(t), depth + 1) + " *";
        }
        if (kind == btf_h.BTF_KIND_ARRAY()) {
            MemorySegment arr = type(id, btf_array.sizeof()).asSlice(btf_type.sizeof());
            return spell(btf_array.type(arr), depth + 1) + "[" + Integer.toUnsignedLong(btf_array.nelems(arr)) + "]";
        }
        if (kind == btf_h.BTF_KIND_CONST() || kind == btf_h.BTF_KIND_VOLATILE()) {
            return (kind == btf_h.BTF_KIND_CONST() ? "const " : "volatile ") + spell(btf_type.type(t), depth + 1);
        }
        if (kind == btf_h.BTF_KIND_RESTRICT() || kind == btf_h.BTF_KIND_TYPE_TAG()) {
            return spell(btf_type.type(t), depth + 1);
        }
        return own.isEmpty() ? "?" : own;
    }

    /** The btf_type of {@code id} with {@code extra} bytes after it readable. */
    private MemorySegment type(int id, long extra) {
        MemorySegment t = libbpf_h.btf__type_by_id(btf, id);
        if (t.address() == 0) {
            throw new BpfException("BTF has no type " + id);
        }
        return t.reinterpret(btf_type.sizeof() + extra);
    }

    private String name(int offset) {
        return Libbpf.string(libbpf_h.btf__name_by_offset(btf, offset));
    }

    private static int kind(MemorySegment t) {
        return (btf_type.info(t) >>> KIND_SHIFT) & KIND_MASK;
    }

    private static int vlen(MemorySegment t) {
        return btf_type.info(t) & VLEN_MASK;
    }

    private static boolean kflag(MemorySegment t) {
        return (btf_type.info(t) >>> KFLAG_SHIFT) != 0;
    }
}
