package dev.panbpf.samples.compare;

import dev.panbpf.BpfProgram;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Producers runs program {@code produce} back to back with BPF_PROG_TEST_RUN on one thread per CPU, each run
 * pinned to its CPU, until closed. A test run with repeat 1 avoids the per-call setup a larger repeat count costs
 * on XDP; the program's own loop ({@code config.count}) makes each run emit many records.
 */
final class Producers implements AutoCloseable {
    private final List<Thread> threads = new ArrayList<>();
    private final AtomicReference<RuntimeException> failure = new AtomicReference<>();
    private volatile boolean running = true;

    Producers(BpfProgram program, List<Integer> cpus) {
        for (int cpu : cpus) {
            Thread t = new Thread(() -> produce(program, cpu), "producer-cpu-" + cpu);
            t.setDaemon(true);
            threads.add(t);
        }
        threads.forEach(Thread::start);
    }

    private void produce(BpfProgram program, int cpu) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment packet = a.allocate(64);
            while (running) {
                program.testRun(packet, 1, cpu);
            }
        } catch (RuntimeException e) {
            failure.compareAndSet(null, e);
            running = false;
        }
    }

    /** Whether every producer is still running (false after one failed). */
    boolean running() {
        return running;
    }

    /** Stops and joins the producers; rethrows the first failure. */
    @Override
    public void close() {
        running = false;
        boolean interrupted = false;
        for (Thread t : threads) {
            while (t.isAlive()) {
                try {
                    t.join();
                } catch (InterruptedException e) {
                    interrupted = true; // the producers stop within one test run; keep waiting for them
                }
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
        if (failure.get() != null) {
            throw failure.get();
        }
    }
}
