package dev.panbpf.samples.compare;

import dev.panbpf.perf.PerfBuffer;
import dev.panbpf.perf.PerfOptions;

import java.time.Duration;

/** PerfSide reads the producer's perf event array {@code pb}, one ring per producer CPU. */
final class PerfSide implements Side {
    private final PerfBuffer perf;
    private final PerfBuffer.Handler handler;
    private final long memory;

    PerfSide(ProducerObject producer, Tally tally, Settings s, Trace trace) {
        PerfOptions options = PerfOptions.defaults().pagesPerCpu(s.perfPages()).wakeupEvents(s.perfWakeup())
                .payloadSize(s.size()).cpus(s.cpus());
        this.perf = PerfBuffer.of(producer.pb(), options);
        this.handler = (cpu, payload, time) -> {
            tally.see(payload);
            return true;
        };
        this.memory = (long) s.cpus().size() * (s.perfPages() + 1) * Settings.PAGE; // + a metadata page each
        trace.step("perf buffer reader: map pb (fd %d), a perf event and a ring of %d data pages (+1 metadata) on "
                + "each of CPUs %s, a wakeup every %d sample(s)", producer.pb().fd(), s.perfPages(), s.cpus(),
                s.perfWakeup());
    }

    @Override
    public void poll(Duration timeout) {
        perf.poll(handler, timeout);
    }

    @Override
    public long drain() {
        long n = 0;
        for (int got; (got = perf.consume(handler)) > 0; ) {
            n += got;
        }
        return n;
    }

    @Override
    public long produced(ProducerCounters c) {
        return c.perfOk() + c.perfFailed();
    }

    /**
     * A full perf ring makes bpf_perf_event_output fail (perfFailed) and the kernel count the sample in a LOST
     * record (perf.lost()): the same samples seen from both ends, so take the larger.
     */
    @Override
    public long lost(ProducerCounters c) {
        return Math.max(perf.lost(), c.perfFailed());
    }

    @Override
    public long memoryBytes() {
        return memory;
    }

    @Override
    public void close() {
        perf.close();
    }
}
