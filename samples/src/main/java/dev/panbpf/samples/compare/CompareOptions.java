package dev.panbpf.samples.compare;

import dev.panbpf.Cpus;
import dev.panbpf.samples.Args;
import dev.panbpf.samples.Option;
import dev.panbpf.samples.Table;
import dev.panbpf.samples.UsageException;

import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * CompareOptions declares {@code compare}'s options and turns them into {@link Settings}, checking every value
 * before anything runs: a value the kernel or a reader would refuse halfway through (a perf ring that is not a
 * power of two, a record larger than its ring) is a usage error at once, naming the option, the value and what
 * is allowed. All bad values are reported together.
 */
final class CompareOptions {
    /** Records per program run: many per BPF_PROG_TEST_RUN call, so the syscall does not dominate. */
    static final int PER_RUN = 256;
    /** The record header the producer writes (seq, cpu, size): the least payload. */
    static final int MIN_SIZE = 24;
    /** The largest payload the producer sends. */
    static final int MAX_SIZE = 8192;
    /** The kernel's ring buffer size limit. */
    static final long MAX_RING = 1L << 31;
    static final long MAX_SECONDS = 86_400;
    static final long MAX_WARMUP = 3_600;

    private CompareOptions() { }

    static List<Option> declared() {
        return List.of(
                Option.of("seconds", "N", "total time, split evenly between the two buffers, 1.." + MAX_SECONDS
                        + " (default 20)"),
                Option.of("size", "BYTES", "record payload size, " + MIN_SIZE + ".." + MAX_SIZE + " (default 64)"),
                Option.of("perf-pages", "N", "perf buffer pages per CPU, a power of two (default 64)"),
                Option.of("perf-wakeup", "N", "wake the perf consumer every N events (default 1, as libbpf)"),
                Option.of("ring-bytes", "BYTES", "ring buffer size, a power of two and a page multiple, such as 256K "
                        + "or 1M (default: the perf rings' total)"),
                Option.of("cpus", "N", "producer threads, pinned to the first N online CPUs (default: all)"),
                Option.of("warmup", "N", "run each buffer N seconds before counting, 0.." + MAX_WARMUP
                        + " (default 0)"),
                Option.of("only", "ring|perf", "measure one buffer; the other row shows not run"),
                Option.flag("trace", "print each step: object, maps, program runs, per-second counts"));
    }

    /** Reads and checks every option; throws one UsageException listing every bad value. */
    static Settings parse(Args args) {
        List<Complaint> bad = new ArrayList<>();
        List<Integer> online = Cpus.online();
        long seconds = number(args, "seconds", 20, 1, MAX_SECONDS, "", bad);
        long warmup = number(args, "warmup", 0, 0, MAX_WARMUP, "", bad);
        long cpus = number(args, "cpus", online.size(), 1, online.size(), " (the CPUs online here: " + online + ")",
                bad);
        long maxPages = Long.highestOneBit(MAX_RING / Settings.PAGE / Math.max(1, cpus));
        long pages = number(args, "perf-pages", 64, 1, maxPages, " and a power of two", bad);
        if (fine(bad, "perf-pages") && Long.bitCount(pages) != 1) {
            bad.add(complaint("perf-pages", args, "is not a power of two; allowed: 1, 2, 4, ... " + maxPages
                    + " (the kernel maps 2^n data pages per CPU), e.g. " + (Long.highestOneBit(pages) << 1)));
        }
        long matched = Settings.matchedRingBytes((int) cpus, (int) Math.min(pages, maxPages));
        long ring = ringBytes(args, matched, bad);
        long size = number(args, "size", 64, MIN_SIZE, MAX_SIZE, " (a record starts with a " + MIN_SIZE
                + "-byte header)", bad);
        long perfRing = pages * Settings.PAGE;
        // A sample the size of the whole ring is left out too: it would only fit an empty one.
        if (fine(bad, "size", "perf-pages") && size > perfRing - 16 && wanted(args, Buffer.PERF)) {
            bad.add(complaint("size", args, "does not fit a perf ring of " + Table.bytes(perfRing) + " (--perf-pages "
                    + pages + "; a sample takes " + perfRecord(size) + " bytes with its header): use --size at most "
                    + (perfRing - 16) + " or more --perf-pages"));
        }
        if (fine(bad, "size", "ring-bytes") && ringRecord(size) > ring && wanted(args, Buffer.RING)) {
            bad.add(complaint("size", args, "does not fit a ring buffer of " + Table.bytes(ring) + " (a record takes "
                    + ringRecord(size) + " bytes with its header): use --size at most " + (ring - 8)
                    + " or a bigger --ring-bytes"));
        }
        boolean sized = fine(bad, "size", "perf-pages");
        long wakeup = number(args, "perf-wakeup", 1, 1, sized ? Math.max(1, perfRing / perfRecord(size))
                : Integer.MAX_VALUE, sized ? " (the samples one CPU's perf ring holds at --size " + size + "; a "
                + "later wakeup would come only once the ring is full)" : "", bad);
        Set<Buffer> buffers = only(args, bad);
        if (!bad.isEmpty()) {
            throw new UsageException(String.join("\n", bad.stream().map(Complaint::text).toList()));
        }
        return new Settings((int) size, PER_RUN, (int) pages, (int) wakeup, ring, online.subList(0, (int) cpus),
                Duration.ofSeconds(seconds).dividedBy(2), Duration.ofSeconds(warmup), buffers);
    }

    /** The bytes a perf sample of {@code size} takes in its ring: perf_event_header, u32 size, data, 8-aligned. */
    static long perfRecord(long size) {
        return (8 + 4 + size + 7) & ~7L;
    }

    /** The bytes a ring buffer record of {@code size} takes: the 8-byte record header, data, 8-aligned. */
    static long ringRecord(long size) {
        return (8 + size + 7) & ~7L;
    }

    private static boolean wanted(Args args, Buffer b) {
        return !args.has("only") || args.string("only", "").equals(b.word());
    }

    /** Whether none of {@code options} has been reported bad (a check across two needs both valid). */
    private static boolean fine(List<Complaint> bad, String... options) {
        for (String o : options) {
            if (bad.stream().anyMatch(c -> c.option().equals(o))) {
                return false;
            }
        }
        return true;
    }

    /** The option's whole number in lo..hi, or {@code fallback} when not given; a bad value goes into {@code bad}. */
    private static long number(Args args, String name, long fallback, long lo, long hi, String why,
                               List<Complaint> bad) {
        if (!args.has(name)) {
            return fallback;
        }
        String v = args.string(name, "");
        try {
            long n = Long.parseLong(v.trim());
            if (n >= lo && n <= hi) {
                return n;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        bad.add(complaint(name, args, "is not allowed: it must be a " + (lo > 0 ? "positive " : "") + "whole number "
                + lo + ".." + hi + why));
        return fallback;
    }

    /** --ring-bytes: bytes with an optional K, M or G (powers of 1024), a power of two and a page multiple. */
    private static long ringBytes(Args args, long fallback, List<Complaint> bad) {
        if (!args.has("ring-bytes")) {
            return fallback;
        }
        String v = args.string("ring-bytes", "").trim().toUpperCase(Locale.ROOT).replaceFirst("I?B$", "");
        long unit = v.endsWith("K") ? 1L << 10 : v.endsWith("M") ? 1L << 20 : v.endsWith("G") ? 1L << 30 : 1;
        long n = -1;
        try {
            n = Math.multiplyExact(Long.parseLong(unit == 1 ? v : v.substring(0, v.length() - 1)), unit);
        } catch (NumberFormatException | ArithmeticException e) {
            // reported below
        }
        if (n < Settings.PAGE || n > MAX_RING || Long.bitCount(n) != 1 || n % Settings.PAGE != 0) {
            bad.add(complaint("ring-bytes", args, "is not allowed: the kernel wants a power of two that is a "
                    + "multiple of the page size (" + Settings.PAGE + "), " + Table.bytes(Settings.PAGE) + ".."
                    + Table.bytes(MAX_RING) + ", such as 256K or 4M"));
            return fallback;
        }
        return n;
    }

    private static Set<Buffer> only(Args args, List<Complaint> bad) {
        if (!args.has("only")) {
            return EnumSet.allOf(Buffer.class);
        }
        for (Buffer b : Buffer.values()) {
            if (b.word().equals(args.string("only", ""))) {
                return EnumSet.of(b);
            }
        }
        bad.add(complaint("only", args, "is not allowed: use ring or perf"));
        return EnumSet.allOf(Buffer.class);
    }

    /** Complaint is one bad value: the option it is about, and the sentence shown. */
    private record Complaint(String option, String text) { }

    private static Complaint complaint(String name, Args args, String what) {
        return new Complaint(name, "--" + name + " '" + args.string(name, "") + "' " + what);
    }
}
