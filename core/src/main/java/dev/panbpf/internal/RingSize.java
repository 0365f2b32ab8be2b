package dev.panbpf.internal;

/**
 * RingSize checks the data size of a ring buffer map, at creation and again when a reader or writer maps one:
 * the kernel wants a power of two that is a multiple of the page size and fits its u32.
 */
public final class RingSize {
    private RingSize() { }

    private static final long LARGEST = 1L << 31;

    /** Throws an IllegalArgumentException naming ring {@code name} and a size that would do, unless {@code size} is valid. */
    public static void check(String name, long size) {
        if (size <= 0 || size > LARGEST || Long.bitCount(size) != 1 || size % Sys.PAGE_SIZE != 0) {
            long up = Long.bitCount(size) == 1 ? size : Long.highestOneBit(Math.max(1, size)) << 1;
            throw new IllegalArgumentException("ring buffer '" + name + "' size " + size + " must be a power of two "
                    + "and a multiple of the page size (" + Sys.PAGE_SIZE + "), at most 2 GiB (2147483648), e.g. "
                    + Math.min(LARGEST, Math.max(Sys.PAGE_SIZE, up)));
        }
    }
}
