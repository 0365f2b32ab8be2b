package dev.panbpf.internal;

import java.util.List;

/**
 * CType is a C type read from BTF with typedefs and qualifiers resolved: what panbpf needs to compare a record
 * with a struct and to write the record for a struct. {@link #spelling()} is the type as the source wrote it
 * (the outermost typedef name, such as {@code __u32}), for messages.
 */
public sealed interface CType {

    /** CType.spelling is the type as written in the C source. */
    String spelling();

    /** CType.size is sizeof the type in bytes. */
    long size();

    /** Int is a C integer; {@code isChar} for plain {@code char}, {@code isBool} for {@code _Bool}. */
    record Int(String spelling, long size, boolean signed, boolean isChar, boolean isBool) implements CType { }

    /** Float is {@code float} or {@code double}. */
    record Float(String spelling, long size) implements CType { }

    /** Pointer is any pointer (8 bytes); its target is not followed. */
    record Pointer(String spelling, long size) implements CType { }

    /** Array is {@code element[count]}. */
    record Array(String spelling, CType element, long count) implements CType {
        /** Array.size is the element size times the count. */
        @Override
        public long size() {
            return element.size() * count;
        }
    }

    /** Struct is a struct or union with its members; {@code name} is "" for an anonymous one. */
    record Struct(String spelling, String name, boolean union, long size, List<Member> members) implements CType { }

    /** Enum is a C enum (or enum64) stored in {@code size} bytes. */
    record Enum(String spelling, String name, long size, boolean signed, List<Enumerator> values) implements CType { }

    /** Other is a type panbpf does not map (void, function, forward declaration...). */
    record Other(String spelling, long size) implements CType { }

    /**
     * Member is one struct member: its name ("" when anonymous), its offset in bits and its bitfield width
     * (0 when it is not a bitfield).
     */
    record Member(String name, long bitOffset, int bitfieldSize, CType type) {
        /** Member.offset is the byte offset; meaningful when the member is not a bitfield. */
        public long offset() {
            return bitOffset / 8;
        }

        /** Member.isBitfield says whether the member is a bitfield, which panbpf cannot map. */
        public boolean isBitfield() {
            return bitfieldSize != 0 || bitOffset % 8 != 0;
        }
    }

    /** Enumerator is one named constant of an enum. */
    record Enumerator(String name, long value) { }
}
