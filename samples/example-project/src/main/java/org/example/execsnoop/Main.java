package org.example.execsnoop;

import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Prints every execve on the machine for a few seconds. With {@code --self-test} it runs /bin/true itself and
 * exits 0 once its own exec was seen (1 if not within 10 seconds), which is how CI checks this project.
 */
public final class Main {
    public static void main(String[] args) throws Exception {
        boolean selfTest = args.length > 0 && args[0].equals("--self-test");
        Duration runFor = Duration.ofSeconds(selfTest ? 10 : 5);
        AtomicBoolean sawOwn = new AtomicBoolean();
        try (ExecsnoopObject bpf = ExecsnoopObject.open().load();
             ExecsnoopObject.Links links = bpf.attachAll();
             ExecsnoopObject.TypedRing<ExecEvent> execs = bpf.execsReader()) {
            Instant end = Instant.now().plus(runFor);
            while (Instant.now().isBefore(end) && !sawOwn.get()) {
                if (selfTest) {
                    new ProcessBuilder("/bin/true").start().waitFor();
                }
                execs.poll(e -> {
                    System.out.printf("%-7d %-5d %-16s %s%n", e.pid(), e.uid(), e.comm(), e.filename());
                    sawOwn.compareAndSet(false, selfTest && e.filename().equals("/bin/true"));
                    return true;
                }, Duration.ofMillis(200));
            }
            System.out.println("dropped: " + execs.producerDrops());   // reservations that found the ring full
        }
        if (selfTest) {
            System.out.println(sawOwn.get() ? "execsnoop: saw its own exec of /bin/true" : "execsnoop: missed it");
            System.exit(sawOwn.get() ? 0 : 1);
        }
    }
}
