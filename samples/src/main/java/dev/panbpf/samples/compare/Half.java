package dev.panbpf.samples.compare;

import dev.panbpf.BpfMap;
import dev.panbpf.BpfObject;
import dev.panbpf.BpfProgram;
import dev.panbpf.samples.StopSignal;

import java.time.Duration;
import java.util.function.Function;

/**
 * Half is one buffer's part of {@code compare}: load the producer sending to that buffer, open the reader, run
 * the producers for the warm-up (if any) and drain, then count from there for the measured time and drain again,
 * so every record is either delivered or counted lost, and none from the warm-up is counted.
 */
final class Half {
    private static final Duration TICK = Duration.ofMillis(100);
    /** Losses in this first part of counting are reported apart: they are typically the consumer warming up. */
    static final Duration EARLY = Duration.ofSeconds(2);

    private final Buffer buffer;
    private final Settings s;
    private final Progress progress;
    private final Trace trace;
    private final StopSignal stop;

    Half(Buffer buffer, Settings s, Progress progress, Trace trace, StopSignal stop) {
        this.buffer = buffer;
        this.s = s;
        this.progress = progress;
        this.trace = trace;
        this.stop = stop;
    }

    /**
     * Runs this half with the producer object from {@code objects} (opened, not loaded): a result, or not run
     * when Ctrl-C came during the warm-up, before anything was counted.
     */
    Row run(Function<Buffer, BpfObject> objects) {
        try (ProducerObject producer = load(objects.apply(buffer))) {
            Tally tally = new Tally();
            try (Side side = buffer == Buffer.RING ? new RingSide(producer, tally, s, trace)
                    : new PerfSide(producer, tally, s, trace)) {
                trace.step("program produce is attached to nothing: %d thread(s) test-run it back to back "
                        + "(BPF_PROG_TEST_RUN, repeat 1), one pinned to each of CPUs %s", s.cpus().size(), s.cpus());
                Counts base = new Counts(0, 0, 0, 0);
                if (!s.warmup().isZero()) {
                    drive(producer, side, tally, s.warmup(), buffer.title() + " warm-up", base);
                    long left = side.drain();
                    trace.step("%s warm-up over: drained %,d records; counting starts from here", buffer.title(),
                            left);
                    base = counts(producer, side, tally);
                    if (stop.raised()) {
                        return new NotRun(buffer, "stopped (Ctrl-C) during its warm-up", null);
                    }
                }
                Drive d = drive(producer, side, tally, s.eachBuffer(), buffer.title(), base);
                long left = side.drain();
                trace.step("%s producers stopped; drained %,d records left in the buffer", buffer.title(), left);
                Counts end = counts(producer, side, tally).minus(base);
                trace.step("%s: closing the reader and the object (maps and program released)", buffer.title());
                return new Result(buffer, d.seconds, end.produced, end.delivered, end.lost, d.lostEarly,
                        end.outOfOrder, side.memoryBytes());
            }
        }
    }

    /** Sizes the ring, loads the object, tells the program where to send, and traces what it loaded. */
    private ProducerObject load(BpfObject object) {
        ProducerObject producer = ProducerObject.of(object);
        try {
            trace.step("%s: opened BPF object '%s' (producer.bpf.o); map rb max_entries set to %d bytes",
                    buffer.title(), object.name(), s.ringBytes());
            producer.object().setMaxEntries("rb", s.ringBytes());
            producer.load();
            for (BpfMap m : object.maps()) {
                trace.step("  map %-18s %-16s key %d B, value %d B, max_entries %d, fd %d", m.name(),
                        m.mapType() == null ? "type " + m.type() : m.mapType(), m.keySize(), m.valueSize(),
                        m.maxEntries(), m.fd());
            }
            for (BpfProgram p : object.programs()) {
                trace.step("  program %s (section %s, type %d), fd %d", p.name(), p.section(), p.type(), p.fd());
            }
            producer.updateConfig(0, new ProducerConfig(s.perRun(), s.size(), 0, 0, buffer.target(), 0));
            trace.step("  config[0]: %d records of %d bytes per run, target %d (%s)", s.perRun(), s.size(),
                    buffer.target(), buffer.title());
            return producer;
        } catch (RuntimeException e) {
            producer.close();
            throw e;
        }
    }

    /** Counts is the four totals at one moment, after a drain. */
    private record Counts(long produced, long delivered, long lost, long outOfOrder) {
        Counts minus(Counts o) {
            return new Counts(produced - o.produced, delivered - o.delivered, lost - o.lost,
                    outOfOrder - o.outOfOrder);
        }
    }

    private static Counts counts(ProducerObject producer, Side side, Tally tally) {
        ProducerCounters c = producer.lookupCounters(0);
        return new Counts(side.produced(c), tally.count(), side.lost(c), tally.outOfOrder());
    }

    /** Drive is how long the producers ran and how many records were lost in the first {@link #EARLY}. */
    private record Drive(double seconds, long lostEarly) { }

    /** Runs the producers for {@code length}, consuming, and shows progress once a second. */
    private Drive drive(ProducerObject producer, Side side, Tally tally, Duration length, String name, Counts base) {
        long start = System.nanoTime();
        long end = start + length.toNanos();
        long lastTime = start;
        long lastCount = tally.count();
        long now = start;
        long lostEarly = -1;
        try (Producers producers = new Producers(producer.produce(), s.cpus())) {
            while (now < end && !stop.raised() && producers.running()) {
                side.poll(TICK);
                now = System.nanoTime();
                if (now - lastTime >= 1_000_000_000L || now >= end) {
                    ProducerCounters c = producer.lookupCounters(0);
                    long lost = side.lost(c) - base.lost;
                    if (lostEarly < 0 && now - start >= EARLY.toNanos()) {
                        lostEarly = lost;
                    }
                    long rate = (long) ((tally.count() - lastCount) / ((now - lastTime) / 1e9));
                    progress.show(String.format("%-11s %4.1f/%.1f s  %,13d events/s  delivered %,d  lost %,d", name,
                            Math.min(now - start, length.toNanos()) / 1e9, length.toNanos() / 1e9, rate,
                            tally.count() - base.delivered, lost));
                    trace.step("%s %.1f s: produced %,d, delivered %,d, lost %,d", name, (now - start) / 1e9,
                            side.produced(c) - base.produced, tally.count() - base.delivered, lost);
                    lastTime = now;
                    lastCount = tally.count();
                }
            }
        }
        progress.done();
        if (lostEarly < 0) { // counting was shorter than EARLY: every loss was early
            lostEarly = side.lost(producer.lookupCounters(0)) - base.lost;
        }
        return new Drive((now - start) / 1e9, lostEarly);
    }
}
