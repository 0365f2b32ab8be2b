package dev.panbpf;

import dev.panbpf.internal.Sys;
import dev.panbpf.internal.TextFiles;

import java.util.ArrayList;
import java.util.List;

/**
 * Cpus lists this machine's CPUs as the kernel numbers them, from {@code /sys/devices/system/cpu}, pins threads to
 * them, and tells the page size that buffer sizes are counted in.
 */
public final class Cpus {
    private Cpus() { }

    /**
     * The CPUs that are online now (perf buffers open one event per online CPU).
     *
     * @return the CPU numbers, ascending
     * @throws BpfException when the list cannot be read, with the errno (ENOENT: /sys is not mounted; EMFILE:
     *         this process has no fd left)
     */
    public static List<Integer> online() {
        return read("online");
    }

    /**
     * Every CPU that could come online (per-CPU maps are sized by this).
     *
     * @return the CPU numbers, ascending
     * @throws BpfException when the list cannot be read, as for {@link #online()}
     */
    public static List<Integer> possible() {
        return read("possible");
    }

    /**
     * Pins the calling thread to {@code cpu}, so that what it runs (a consumer loop, a {@code testRun} producer)
     * stays on that CPU. Benchmarks and tests use it to place producers and consumers.
     *
     * @param cpu a CPU number from {@link #online()}
     * @throws BpfException when the kernel refuses it (EINVAL: the CPU is not online or not allowed here)
     */
    public static void pinCurrentThread(int cpu) {
        if (cpu < 0) {
            throw new IllegalArgumentException("not a CPU number: " + cpu);
        }
        Sys.pinToCpu(cpu);
    }

    /**
     * The size of a memory page here, in bytes: ring buffer sizes and perf buffer pages are multiples of it.
     *
     * @return the page size
     */
    public static long pageSize() {
        return Sys.PAGE_SIZE;
    }

    private static List<Integer> read(String which) {
        return parse(TextFiles.read("/sys/devices/system/cpu/" + which, "is /sys mounted?"));
    }

    /**
     * Parses the kernel's CPU list format, such as {@code "0-3,5,7-8"}.
     *
     * @param list the list as the kernel prints it
     * @return the CPU numbers in the order listed
     * @throws IllegalArgumentException for a list that is not in that format
     */
    public static List<Integer> parse(String list) {
        List<Integer> cpus = new ArrayList<>();
        for (String part : list.trim().split(",")) {
            if (part.isEmpty()) {
                continue;
            }
            int dash = part.indexOf('-');
            try {
                int from = Integer.parseInt(dash < 0 ? part : part.substring(0, dash));
                int to = dash < 0 ? from : Integer.parseInt(part.substring(dash + 1));
                if (from < 0 || to < from) {
                    throw new IllegalArgumentException("bad CPU range '" + part + "' in '" + list.trim() + "'");
                }
                for (int c = from; c <= to; c++) {
                    cpus.add(c);
                }
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("bad CPU list '" + list.trim() + "'", e);
            }
        }
        return List.copyOf(cpus);
    }
}
