package dev.panbpf.perf;

import dev.panbpf.bindings.perf_event_attr;
import dev.panbpf.bindings.perf_event_h;
import dev.panbpf.internal.Sys;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * PerfEvents opens the per-CPU {@code PERF_COUNT_SW_BPF_OUTPUT} events a perf buffer reads, and switches them on
 * and off. These events count nothing by themselves: they only carry what BPF programs pass to
 * {@code bpf_perf_event_output} once their fd sits in a PERF_EVENT_ARRAY.
 */
final class PerfEvents {
    private PerfEvents() { }

    /**
     * Opens a disabled BPF output event on {@code cpu} for every process (pid -1), close-on-exec, and returns its
     * fd. {@code timestamps} adds PERF_SAMPLE_TIME on CLOCK_MONOTONIC, the clock of bpf_ktime_get_ns, so stamps
     * compare across CPUs and with the program's own. With {@code wakeupBytes > 0} the reader is woken once that
     * many bytes are waiting, otherwise after every {@code wakeupEvents} samples.
     *
     * @param cpu the CPU to open the event on
     * @param timestamps whether samples carry a time stamp
     * @param wakeupEvents samples between wake-ups, when {@code wakeupBytes} is 0
     * @param wakeupBytes bytes waiting before a wake-up, or 0 to count samples
     * @return the perf event fd, owned by the caller
     */
    static int open(int cpu, boolean timestamps, int wakeupEvents, int wakeupBytes) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment attr = perf_event_attr.allocate(a);
            perf_event_attr.type(attr, perf_event_h.PERF_TYPE_SOFTWARE());
            perf_event_attr.size(attr, (int) perf_event_attr.sizeof());
            perf_event_attr.config(attr, perf_event_h.PERF_COUNT_SW_BPF_OUTPUT());
            perf_event_attr.sample_period(attr, 1);  // every output is a sample
            long sampleType = perf_event_h.PERF_SAMPLE_RAW();
            long flags = 1L << perf_event_attr.flags$bits.disabled();
            if (timestamps) {
                sampleType |= perf_event_h.PERF_SAMPLE_TIME();
                flags |= 1L << perf_event_attr.flags$bits.use_clockid();
                perf_event_attr.clockid(attr, PerfLayout.CLOCK_MONOTONIC);
            }
            if (wakeupBytes > 0) {
                flags |= 1L << perf_event_attr.flags$bits.watermark();
                perf_event_attr.wakeup_watermark(attr, wakeupBytes);
            } else {
                perf_event_attr.wakeup_events(attr, wakeupEvents);
            }
            perf_event_attr.sample_type(attr, sampleType);
            perf_event_attr.flags(attr, flags);
            return Sys.perfEventOpen(attr, -1, cpu, -1, perf_event_h.PERF_FLAG_FD_CLOEXEC());
        }
    }

    /**
     * PERF_EVENT_IOC_ENABLE.
     *
     * @param fd the perf event fd
     * @param cpu the event's CPU, for the error message
     */
    static void enable(int fd, int cpu) {
        Sys.ioctl(fd, perf_event_h.PERF_EVENT_IOC_ENABLE(), 0, "PERF_EVENT_IOC_ENABLE, CPU " + cpu);
    }

    /**
     * PERF_EVENT_IOC_DISABLE, ignoring failure: it runs while closing, when the fd goes away anyway.
     *
     * @param fd the perf event fd
     */
    static void disableQuietly(int fd) {
        try {
            Sys.ioctl(fd, perf_event_h.PERF_EVENT_IOC_DISABLE(), 0, "PERF_EVENT_IOC_DISABLE");
        } catch (RuntimeException ignored) {
            // closing follows; a failed disable changes nothing the caller could act on
        }
    }
}
