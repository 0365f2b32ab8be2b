package dev.panbpf.perf;

import dev.panbpf.BpfException;
import dev.panbpf.BpfMap;
import dev.panbpf.Cpus;
import dev.panbpf.bindings.errno_h;
import dev.panbpf.testing.FdLimit;
import dev.panbpf.testing.Kernel;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Opening a perf buffer in a process that has run out of file descriptors: the error says EMFILE and how to
 * fix it, whichever open ran out, and a half-opened buffer leaves nothing behind. The limit is lowered inside
 * this JVM (setrlimit) for the one call, and restored before anything is asserted.
 */
class PerfBufferFdLimitTest {
    @BeforeAll
    static void root() {
        Kernel.requireRoot();
    }

    /**
     * Opens a buffer with exactly {@code free} fds left and returns what it threw. Everything the call runs ran
     * before with fds to spare, so no class has to be loaded (opened) while the limit holds.
     */
    private static Throwable openWithFreeFds(BpfMap map, int free) {
        PerfOptions options = PerfOptions.defaults().cpus(List.of(Cpus.online().getFirst()));
        PerfBuffer.of(map, options).close();
        assertNotNull(new BpfException("warm-up", errno_h.EMFILE(), null).getMessage());
        assertNotNull(new BpfException("warm-up: " + "x", new BpfException("x")).getMessage());
        Throwable thrown = null;
        try (FdLimit limit = new FdLimit(free)) {
            try {
                PerfBuffer.of(map, options).close();
            } catch (Throwable t) {
                thrown = t;
            }
        }
        return thrown;
    }

    @Test
    void withNoFdLeftTheErrorNamesEmfileAndTheFdLimitNotAMissingSys() {
        try (BpfMap map = PerfBufferSetupTest.perfMap()) {
            int fds = Kernel.openFds();
            Throwable t = openWithFreeFds(map, 0);
            assertInstanceOf(BpfException.class, t, String.valueOf(t));
            String m = t.getMessage();
            assertTrue(m.startsWith("perf buffer on " + map) && m.contains("/sys/devices/system/cpu/online")
                    && m.contains("EMFILE") && m.toLowerCase().contains("too many open files") && m.contains("ulimit -n"), m);
            assertFalse(m.contains("is /sys mounted"), m);
            assertEquals(errno_h.EMFILE(), ((BpfException) t).errno());
            assertEquals(fds, Kernel.openFds());
        }
    }

    @Test
    void withFdsForTheEpollButNoneForAPerfEventTheErrorNamesEmfileAndNothingLeaks() {
        try (BpfMap map = PerfBufferSetupTest.perfMap()) {
            int fds = Kernel.openFds();
            long[] perf = PerfLeaks.now();
            Throwable t = openWithFreeFds(map, 2);  // the epoll and its eventfd, then no more
            assertInstanceOf(BpfException.class, t, String.valueOf(t));
            String m = t.getMessage();
            assertTrue(m.startsWith("perf buffer on " + map) && m.contains("perf_event_open")
                    && m.contains("EMFILE") && m.toLowerCase().contains("too many open files"), m);
            assertEquals(fds, Kernel.openFds(), "the epoll and eventfd were closed again");
            PerfLeaks.assertBackTo(perf);
            // The refused open released its claim: the map can be read.
            PerfBuffer.of(map, PerfOptions.defaults()).close();
        }
    }
}
