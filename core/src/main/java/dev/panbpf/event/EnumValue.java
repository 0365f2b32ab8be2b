package dev.panbpf.event;

/**
 * EnumValue lets an enum used as a record component say which C integer each constant stands for; an enum that
 * does not implement it is encoded as its {@link Enum#ordinal()}. Decoding an integer that no constant has fails
 * with an error naming the field and the value.
 */
public interface EnumValue {
    /** {@return the C integer of this constant (the same for every call)} */
    long value();
}
