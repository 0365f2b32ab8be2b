package dev.panbpf.event;

import java.lang.invoke.MethodHandles;

/** Access finds a lookup that may call a record's constructor and accessors, and explains when none may. */
final class Access {
    private Access() { }

    /** A private lookup in {@code type} when its package is open to panbpf, else the public lookup. */
    static MethodHandles.Lookup lookupFor(Class<?> type) {
        try {
            // A named module reads no other module unless told to; panbpf may tell its own module to.
            Access.class.getModule().addReads(type.getModule());
            return MethodHandles.privateLookupIn(type, MethodHandles.lookup());
        } catch (IllegalAccessException | SecurityException e) {
            return MethodHandles.publicLookup();
        }
    }

    /** The error for a record whose constructor or accessors panbpf may not call. */
    static IllegalArgumentException denied(Class<?> type, Exception cause) {
        return new IllegalArgumentException("panbpf cannot call the constructor or accessors of record "
                + type.getName() + ": make it public in an exported package, open its package to module "
                + "dev.panbpf, or pass a MethodHandles.lookup() from the record's module to StructCodec.of", cause);
    }
}
