package dev.panbpf.samples.printk;

import dev.panbpf.testing.Kernel;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ThreadLocalRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

@Timeout(60)
class PrintkTest {
    @Test
    @SuppressWarnings("try")
    void theTracePipeReaderSeesTheProgramsLinesInOrder() throws Exception {
        Kernel.requireRoot();
        Kernel.requireTracefs();
        int tag = ThreadLocalRandom.current().nextInt(1, Integer.MAX_VALUE);
        List<String> lines = new CopyOnWriteArrayList<>();
        try (PrintkProgram program = PrintkProgram.load(tag);
             TracePipe pipe = TracePipe.open(l -> l.contains(program.linePrefix()), lines::add)) {
            program.printk(5);
            long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
            while (lines.size() < 5 && System.nanoTime() < deadline) {
                Thread.sleep(10);
            }
            assertEquals(5, program.printkSent());
        }
        assertEquals(5, lines.size(), lines.toString());
        for (int i = 0; i < 5; i++) {
            assertTrue(lines.get(i).endsWith("bpf_trace_printk: panbpf-printk tag=" + tag + " seq=" + i),
                    lines.get(i));
        }
    }

    @Test
    void ringRecordsCarryTheSameTagAndSequence() {
        Kernel.requireRoot();
        try (PrintkProgram program = PrintkProgram.load(77)) {
            program.record(3);
            int[] seq = {0};
            int n = program.ring().consume(r -> {
                assertEquals(77, r.get(java.lang.foreign.ValueLayout.JAVA_INT, 0));
                assertEquals(seq[0]++, r.get(java.lang.foreign.ValueLayout.JAVA_INT, 4));
                return true;
            });
            assertEquals(3, n);
            assertEquals(3, program.recordsSent());
        }
    }
}
