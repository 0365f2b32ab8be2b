package dev.panbpf.perf;

import dev.panbpf.internal.Sys;

import java.lang.foreign.MemorySegment;
import java.util.Collection;
import java.util.List;
import java.util.Objects;
import java.util.function.Consumer;
import java.util.function.ToIntFunction;

/**
 * PerfOptions configures a {@link PerfBuffer} or an {@link OrderedPerfBuffer}: ring size, wakeups, timestamps,
 * CPUs, payload size and the lost-events callback. Options are immutable: each setter returns a changed copy, and
 * checks its argument at once.
 */
public final class PerfOptions {
    /** The most data pages a CPU's ring may have here: 2^30 pages is far beyond any machine's memory. */
    private static final int MAX_PAGES = 1 << 30;

    private int pagesPerCpu = 64;
    private int wakeupEvents = 1;
    private int wakeupBytes;
    private boolean timestamps;
    private List<Integer> cpus;
    private LostHandler onLost;
    private int payloadSize = -1;
    private ToIntFunction<MemorySegment> payloadLength;

    private PerfOptions() { }

    /**
     * PerfOptions.defaults: 64 pages per CPU, a wakeup per event, no timestamps, every online CPU.
     *
     * @return the default options
     */
    public static PerfOptions defaults() {
        return new PerfOptions();
    }

    /** A copy of these options with {@code change} applied. */
    private PerfOptions with(Consumer<PerfOptions> change) {
        PerfOptions o = new PerfOptions();
        o.pagesPerCpu = pagesPerCpu;
        o.wakeupEvents = wakeupEvents;
        o.wakeupBytes = wakeupBytes;
        o.timestamps = timestamps;
        o.cpus = cpus;
        o.onLost = onLost;
        o.payloadSize = payloadSize;
        o.payloadLength = payloadLength;
        change.accept(o);
        return o;
    }

    /**
     * Data pages per CPU ring: a power of two (the kernel maps one metadata page plus 2^n data pages).
     *
     * @param pages the number of data pages
     * @return changed options
     * @throws IllegalArgumentException if {@code pages} is not a power of two
     */
    public PerfOptions pagesPerCpu(int pages) {
        if (pages <= 0 || Integer.bitCount(pages) != 1) {
            int up = pages <= 1 ? 1 : Integer.highestOneBit(pages - 1) << 1;
            throw new IllegalArgumentException("pagesPerCpu " + pages + " is not a power of two; the kernel "
                    + "maps 1 metadata page plus 2^n data pages per CPU, so use e.g. " + up);
        }
        return with(o -> o.pagesPerCpu = pages);
    }

    /**
     * Data bytes per CPU ring, rounded up to a power-of-two number of pages (so 100 KiB with 4 KiB pages gives
     * 32 pages, 128 KiB): the way to size the rings without knowing the page size.
     *
     * @param bytes the least data area each CPU's ring should have
     * @return changed options
     * @throws IllegalArgumentException if {@code bytes} is not positive, or rounds up past 2^30 pages
     */
    public PerfOptions bytesPerCpu(long bytes) {
        long pages = bytes <= 0 ? 0 : (bytes - 1) / Sys.PAGE_SIZE + 1;
        if (pages <= 0 || pages > MAX_PAGES) {
            throw new IllegalArgumentException("bytesPerCpu must be 1.." + MAX_PAGES * Sys.PAGE_SIZE + ", got "
                    + bytes);
        }
        int rounded = Integer.bitCount((int) pages) == 1 ? (int) pages : Integer.highestOneBit((int) pages) << 1;
        return pagesPerCpu(rounded);
    }

    /**
     * Wakes a poll after every {@code n} samples on a CPU (1 = each one; more = cheaper, later).
     *
     * @param n samples per wakeup
     * @return changed options (waking by count, not bytes)
     * @throws IllegalArgumentException if {@code n < 1}
     */
    public PerfOptions wakeupEvents(int n) {
        if (n < 1) {
            throw new IllegalArgumentException("wakeupEvents must be at least 1, got " + n);
        }
        return with(o -> {
            o.wakeupEvents = n;
            o.wakeupBytes = 0;
        });
    }

    /**
     * Wakes a poll once a CPU's ring holds {@code bytes} unread bytes, instead of counting events.
     *
     * @param bytes unread bytes per wakeup, at most the ring's size
     * @return changed options
     * @throws IllegalArgumentException if {@code bytes < 1}
     */
    public PerfOptions wakeupBytes(int bytes) {
        if (bytes < 1) {
            throw new IllegalArgumentException("wakeupBytes must be at least 1, got " + bytes);
        }
        return with(o -> o.wakeupBytes = bytes);
    }

    /**
     * Asks the kernel to stamp each sample with CLOCK_MONOTONIC nanoseconds (the clock of
     * {@code bpf_ktime_get_ns}), taken just before the sample is written; costs 8 bytes per record. The ordered
     * reader always switches them on.
     *
     * @param on whether samples carry a time
     * @return changed options
     */
    public PerfOptions timestamps(boolean on) {
        return with(o -> o.timestamps = on);
    }

    /**
     * Reads only these CPUs (those offline are skipped); by default every online CPU.
     *
     * @param list CPU numbers
     * @return changed options
     * @throws IllegalArgumentException for a null or negative CPU number
     */
    public PerfOptions cpus(Collection<Integer> list) {
        for (Integer c : list) {
            if (c == null || c < 0) {
                throw new IllegalArgumentException("not a CPU number: " + c + " in " + list);
            }
        }
        return with(o -> o.cpus = List.copyOf(list));
    }

    /**
     * Calls {@code handler} with the CPU and count each time the kernel reports dropped events.
     *
     * @param handler the callback, or null for none
     * @return changed options
     */
    public PerfOptions onLost(LostHandler handler) {
        return with(o -> o.onLost = handler);
    }

    /**
     * Declares that the program always sends exactly {@code bytes} bytes, so handlers get exactly those and
     * not the kernel's alignment padding; a sample of another size raises an error.
     *
     * @param bytes the program's payload size
     * @return changed options (without a payload length function)
     * @throws IllegalArgumentException if {@code bytes} is outside 0..{@link PerfLayout#MAX_RECORD_BYTES}
     */
    public PerfOptions payloadSize(int bytes) {
        if (bytes < 0 || bytes > PerfLayout.MAX_RECORD_BYTES) {
            throw new IllegalArgumentException("payloadSize must be 0.." + PerfLayout.MAX_RECORD_BYTES
                    + ", got " + bytes);
        }
        return with(o -> {
            o.payloadSize = bytes;
            o.payloadLength = null;
        });
    }

    /**
     * Declares how to read the program's length from its own bytes (for variable-size records that carry
     * their length): {@code length} sees the raw area, padding included, and returns the real size.
     *
     * @param length reads the real size from the raw area
     * @return changed options (without a fixed payload size)
     */
    public PerfOptions payloadLength(ToIntFunction<MemorySegment> length) {
        return with(o -> {
            o.payloadLength = Objects.requireNonNull(length, "length");
            o.payloadSize = -1;
        });
    }

    /**
     * Data pages per CPU.
     *
     * @return the page count
     */
    public int pagesPerCpu() {
        return pagesPerCpu;
    }

    /**
     * Data bytes per CPU: {@link #pagesPerCpu()} pages.
     *
     * @return the byte count
     */
    public long bytesPerCpu() {
        return pagesPerCpu * Sys.PAGE_SIZE;
    }

    /**
     * Samples per wakeup (ignored when {@link #wakeupBytes()} is set).
     *
     * @return the count
     */
    public int wakeupEvents() {
        return wakeupEvents;
    }

    /**
     * Unread bytes per wakeup.
     *
     * @return the bytes, or 0 when waking by event count
     */
    public int wakeupBytes() {
        return wakeupBytes;
    }

    /**
     * Whether samples carry a timestamp.
     *
     * @return true if they do
     */
    public boolean timestamps() {
        return timestamps;
    }

    /**
     * The CPUs asked for.
     *
     * @return the CPUs, or null for every online CPU
     */
    public List<Integer> cpus() {
        return cpus;
    }

    /**
     * The lost-events callback.
     *
     * @return the callback, or null
     */
    public LostHandler onLost() {
        return onLost;
    }

    /**
     * The declared fixed payload size.
     *
     * @return the size, or -1
     */
    public int payloadSize() {
        return payloadSize;
    }

    /**
     * The declared payload length function.
     *
     * @return the function, or null
     */
    public ToIntFunction<MemorySegment> payloadLength() {
        return payloadLength;
    }
}
