package dev.panbpf.samples.compare;

import dev.panbpf.Cpus;
import dev.panbpf.samples.Host;
import dev.panbpf.samples.Main;
import dev.panbpf.samples.StopSignal;
import dev.panbpf.testing.Kernel;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

@Timeout(60)
class CompareTest {
    @Test
    void aShortRunPrintsProgressAndATableWithBothBuffers() {
        Kernel.requireRoot();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int status = new Main().run(List.of("compare", "--seconds", "2"),
                new PrintStream(out, true, StandardCharsets.UTF_8), System.err, new Host(), StopSignal.manual());
        String text = out.toString(StandardCharsets.UTF_8);
        assertEquals(0, status, text);
        assertTrue(text.contains("buffer        events/s") || text.matches("(?s).*buffer +events/s +delivered +lost "
                + "+out of order +memory.*"), text);
        assertTrue(text.matches("(?s).*\\nring buffer +[\\d,]+ +[\\d,]+ +[\\d,]+ +[\\d,]+ +[\\d,]+ [KM]iB.*"), text);
        assertTrue(text.matches("(?s).*\\nperf buffer +[\\d,]+ +[\\d,]+ +[\\d,]+ +[\\d,]+ +[\\d,]+ [KM]iB.*"), text);
        assertTrue(text.contains("events/s  delivered"), "progress lines: " + text);
    }

    @Test
    void everyProducedRecordIsEitherDeliveredOrCountedLost() throws Exception {
        Kernel.requireRoot();
        Compare.Settings s = new Compare.Settings(64, 256, 8, 1, Cpus.online(), Duration.ofMillis(500));
        List<Result> results = Compare.measure(s, new Progress(new PrintStream(new ByteArrayOutputStream()), false),
                StopSignal.manual());
        assertEquals(2, results.size());
        for (Result r : results) {
            assertTrue(r.delivered() > 0, r.toString());
            assertEquals(r.produced(), r.delivered() + r.lost(), r.toString());
        }
        assertEquals(s.ringBytes() + 2 * 4096L, results.get(0).memoryBytes());
        assertEquals(Cpus.online().size() * 9 * 4096L, results.get(1).memoryBytes());
    }
}
