package dev.panbpf.testing;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Threads starts the helper threads of race tests and measures how much CPU a thread burnt while it waited. */
public final class Threads {
    private Threads() { }

    /** Starts {@code r} on a daemon thread named {@code name}, so a stuck helper cannot keep the JVM alive. */
    public static Thread start(String name, Runnable r) {
        Thread t = new Thread(r, name);
        t.setDaemon(true);
        t.start();
        return t;
    }

    /** This thread's user + system CPU time from /proc/thread-self/stat (clock ticks of 10 ms). */
    public static long threadCpuNanos() throws IOException {
        String stat = Files.readString(Path.of("/proc/thread-self/stat"));
        String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        return (Long.parseLong(f[11]) + Long.parseLong(f[12])) * 10_000_000L;
    }
}
