package dev.panbpf.samples.compare;

import dev.panbpf.BpfException;
import dev.panbpf.BpfObject;
import dev.panbpf.Cpus;
import dev.panbpf.bpf.BpfPrograms;
import dev.panbpf.samples.Args;
import dev.panbpf.samples.Host;
import dev.panbpf.samples.Main;
import dev.panbpf.samples.StopSignal;
import dev.panbpf.samples.UsageException;
import dev.panbpf.testing.Kernel;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

@Timeout(60)
class CompareTest {
    private static final String SHIPPED = "producer.bpf.o";

    /** The shipped producer, counting how many times a half opened it. */
    private static final class Objects implements Function<Buffer, BpfObject> {
        final AtomicInteger opened = new AtomicInteger();

        @Override
        public BpfObject apply(Buffer b) {
            opened.incrementAndGet();
            return BpfObject.open(BpfPrograms.bytes(SHIPPED), "producer");
        }
    }

    /** What one run printed and returned. */
    private record Run(int status, String out) { }

    private static Run run(Compare compare, StopSignal stop, String... argv) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int status = compare.run(Args.parse(List.of(argv), compare.options()),
                new PrintStream(out, true, StandardCharsets.UTF_8), stop);
        return new Run(status, out.toString(StandardCharsets.UTF_8));
    }

    private static Run main(String... argv) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int status = new Main().run(List.of(argv), new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8), new Host(), StopSignal.manual());
        return new Run(status, out.toString(StandardCharsets.UTF_8) + err.toString(StandardCharsets.UTF_8));
    }

    /** The table row of {@code buffer}: its cells, split where the columns are (two spaces or more). */
    private static List<String> row(String text, String buffer) {
        List<String> lines = text.lines().toList();
        int rule = lines.indexOf(lines.stream().filter(l -> l.startsWith("-----")).findFirst().orElse(""));
        return lines.subList(rule + 1, lines.size()).stream().filter(l -> l.startsWith(buffer + "  ")).findFirst()
                .map(l -> List.of(l.split(" {2,}"))).orElseThrow(() -> new AssertionError("no " + buffer
                        + " row in\n" + text));
    }

    private static long number(String cell) {
        return Long.parseLong(cell.replace(",", ""));
    }

    @Test
    void aShortRunPrintsProgressAndATableWithBothBuffers() {
        Kernel.requireRoot();
        Run r = main("compare", "--seconds", "2");
        assertEquals(0, r.status(), r.out());
        assertTrue(r.out().matches("(?s).*\\nbuffer +events/s +produced +delivered +lost +loss % +out of order "
                + "+memory\\n.*"), r.out());
        for (String buffer : List.of("ring buffer", "perf buffer")) {
            assertTrue(r.out().matches("(?s).*\\n" + buffer + " +[\\d,]+ +[\\d,]+ +[\\d,]+ +[\\d,]+ +(0|<0\\.001|"
                    + "\\d+\\.\\d{3})% +[\\d,]+ +\\d[\\d,]* [KM]iB\\n.*"), r.out());
        }
        assertTrue(r.out().contains("events/s  delivered"), "progress lines: " + r.out());
        assertFalse(r.out().contains("trace:"), "no trace without --trace: " + r.out());
        assertFalse(r.out().contains(Report.NOT_RUN), r.out());
    }

    @Test
    void everyProducedRecordIsEitherDeliveredOrCountedLost() {
        Kernel.requireRoot();
        Settings s = Settings.of(64, 256, 8, 1, Cpus.online(), Duration.ofMillis(500));
        List<Row> rows = Compare.measure(s, new Progress(new PrintStream(new ByteArrayOutputStream()), false),
                StopSignal.manual());
        assertEquals(2, rows.size());
        for (Row row : rows) {
            Result r = assertInstanceOf(Result.class, row);
            assertTrue(r.delivered() > 0, r.toString());
            assertEquals(r.produced(), r.delivered() + r.lost(), r.toString());
        }
        assertEquals(s.ringBytes() + 2 * 4096L, ((Result) rows.get(0)).memoryBytes());
        assertEquals(Cpus.online().size() * 9 * 4096L, ((Result) rows.get(1)).memoryBytes());
    }

    @Test
    void theHelpListsEveryOptionTraceIncluded() {
        Run r = main("compare", "--help");
        assertEquals(0, r.status());
        for (String o : List.of("--seconds N", "--size BYTES", "--perf-pages N", "--perf-wakeup N",
                "--ring-bytes BYTES", "--cpus N", "--warmup N", "--only ring|perf", "--trace")) {
            assertTrue(r.out().contains(o), o + " in\n" + r.out());
        }
    }

    /**
     * Each bad value is refused before the first half: no producer object is opened and nothing of a run is
     * printed, and the message names the option, the value and what is allowed.
     */
    @Test
    void everyBadOptionFailsBeforeAnythingIsLoaded() {
        int cpus = Cpus.online().size();
        long wakeups = Settings.PAGE / CompareOptions.perfRecord(64); // 64-byte samples one page holds
        Map<List<String>, String> bad = Map.ofEntries(
                bad("--perf-pages '3' is not a power of two", "--perf-pages", "3"),
                bad("--perf-pages '0' is not allowed: it must be a positive whole number 1..", "--perf-pages", "0"),
                bad("--perf-pages 'many' is not allowed", "--perf-pages", "many"),
                bad("--size '23' is not allowed: it must be a positive whole number 24..8192", "--size", "23"),
                bad("--size '8193' is not allowed: it must be a positive whole number 24..8192", "--size", "8193"),
                bad("--size '8192' does not fit a perf ring of 4 KiB", "--size", "8192", "--perf-pages", "1"),
                bad("--size '8192' does not fit a ring buffer of 8 KiB", "--size", "8192", "--ring-bytes", "8K"),
                bad("--seconds '0' is not allowed: it must be a positive whole number 1..86400", "--seconds", "0"),
                bad("--seconds '-5' is not allowed", "--seconds", "-5"),
                bad("--warmup '-1' is not allowed: it must be a whole number 0..3600", "--warmup", "-1"),
                bad("--warmup '1.5' is not allowed", "--warmup", "1.5"),
                bad("--ring-bytes '5000' is not allowed: the kernel wants a power of two that is a multiple of the "
                        + "page size", "--ring-bytes", "5000"),
                bad("--ring-bytes '6K' is not allowed", "--ring-bytes", "6K"),
                bad("--ring-bytes '1K' is not allowed", "--ring-bytes", "1K"),
                bad("--ring-bytes '4G' is not allowed", "--ring-bytes", "4G"),
                bad("--cpus '0' is not allowed: it must be a positive whole number 1.." + cpus, "--cpus", "0"),
                bad("--cpus '" + (cpus + 1) + "' is not allowed: it must be a positive whole number 1.." + cpus
                        + " (the CPUs online here", "--cpus", String.valueOf(cpus + 1)),
                bad("--perf-wakeup '0' is not allowed: it must be a positive whole number 1..", "--perf-wakeup",
                        "0"),
                bad("--perf-wakeup '1000' is not allowed: it must be a positive whole number 1.." + wakeups
                        + " (the samples one CPU's perf ring holds", "--perf-wakeup", "1000", "--perf-pages", "1"),
                bad("--only 'both' is not allowed: use ring or perf", "--only", "both"));
        for (Map.Entry<List<String>, String> e : bad.entrySet()) {
            Objects objects = new Objects();
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            Compare compare = new Compare(objects);
            UsageException u = assertThrows(UsageException.class, () -> compare.run(Args.parse(e.getKey(),
                    compare.options()), new PrintStream(out, true, StandardCharsets.UTF_8), StopSignal.manual()),
                    e.getKey().toString());
            assertTrue(u.getMessage().contains(e.getValue()), e.getKey() + ": " + u.getMessage());
            assertEquals(0, objects.opened.get(), e.getKey() + ": no half may start before the options are checked");
            assertEquals("", out.toString(StandardCharsets.UTF_8), e.getKey() + ": nothing of a run printed");
        }
    }

    /** A bad command line and the start of the message it must get. */
    private static Map.Entry<List<String>, String> bad(String message, String... argv) {
        return Map.entry(List.of(argv), message);
    }

    @Test
    void allBadValuesAreReportedTogetherAsAUsageError() {
        Run r = main("compare", "--perf-pages", "3", "--seconds", "0", "--only", "neither");
        assertEquals(Main.USAGE, r.status(), r.out());
        assertTrue(r.out().contains("--perf-pages '3'") && r.out().contains("--seconds '0'")
                && r.out().contains("--only 'neither'"), r.out());
        assertFalse(r.out().contains("ring buffer vs perf buffer"), "no run started: " + r.out());
    }

    /** Small rings and large records make both buffers lose, so the loss column has something to show. */
    @Test
    void theLossColumnIsLostOverProducedOfTheSameRowAndLossesAreExplained() {
        Kernel.requireRoot();
        Run r = run(new Compare(), StopSignal.manual(), "--seconds", "2", "--size", "1024", "--perf-pages", "1",
                "--ring-bytes", "4K");
        assertEquals(0, r.status(), r.out());
        for (String buffer : List.of("ring buffer", "perf buffer")) {
            List<String> cells = row(r.out(), buffer);
            long produced = number(cells.get(2));
            long delivered = number(cells.get(3));
            long lost = number(cells.get(4));
            assertTrue(lost > 0 && delivered > 0, r.out());
            assertEquals(produced, delivered + lost, buffer + " row: " + cells);
            double percent = Double.parseDouble(cells.get(5).replace("%", ""));
            assertEquals(100.0 * lost / produced, percent, 0.0005, buffer + " row: " + cells);
            assertTrue(r.out().contains(buffer + " lost " + cells.get(4) + " in "), r.out());
        }
        assertTrue(r.out().contains("Losses in the first seconds are usually warm-up: the JIT"), r.out());
        assertTrue(r.out().contains("--warmup 2") && r.out().contains("a bigger buffer"), r.out());
    }

    /**
     * A 3 s warm-up before 1 s of counting: the row counts only that second, so it holds fewer records than the
     * warm-up produced by its last progress line (counted from the start, the row would hold at least those).
     */
    @Test
    void aWarmUpRunsBeforeCountingAndIsNotCounted() {
        Kernel.requireRoot();
        Run r = run(new Compare(), StopSignal.manual(), "--seconds", "2", "--warmup", "3", "--only", "ring",
                "--trace");
        assertEquals(0, r.status(), r.out());
        assertTrue(r.out().contains("ring buffer warm-up  3.0/3.0 s"), r.out());
        assertTrue(r.out().contains("trace: ring buffer warm-up over: drained"), r.out());
        long warmUpProduced = r.out().lines()
                .filter(l -> l.matches("trace: ring buffer warm-up [\\d.]+ s: produced .*"))
                .map(l -> l.replaceAll(".*produced ([\\d,]+),.*", "$1")).mapToLong(CompareTest::number)
                .max().orElseThrow(() -> new AssertionError(r.out()));
        List<String> cells = row(r.out(), "ring buffer");
        long produced = number(cells.get(2));
        assertTrue(produced > 0 && produced < warmUpProduced, "counted " + produced + ", warm-up "
                + warmUpProduced + ":\n" + r.out());
        assertEquals(produced, number(cells.get(3)) + number(cells.get(4)), cells.toString());
    }

    @Test
    void traceShowsTheObjectItsMapsTheProgramAndEachSecond() {
        Kernel.requireRoot();
        Run r = run(new Compare(), StopSignal.manual(), "--seconds", "2", "--perf-pages", "8", "--trace");
        assertEquals(0, r.status(), r.out());
        long ring = Settings.matchedRingBytes(Cpus.online().size(), 8);
        for (String step : List.of(
                "trace: ring buffer: opened BPF object 'producer' (producer.bpf.o); map rb max_entries set to " + ring,
                "trace: perf buffer: opened BPF object 'producer'",
                "RINGBUF          key 0 B, value 0 B, max_entries " + ring,
                "trace:   map pb                 PERF_EVENT_ARRAY",
                "trace:   map counters",
                "trace:   program produce (section xdp",
                "trace:   config[0]: 256 records of 64 bytes per run, target 1 (ring buffer)",
                "trace:   config[0]: 256 records of 64 bytes per run, target 2 (perf buffer)",
                "trace: ring buffer reader: mapped map rb",
                "trace: perf buffer reader: map pb",
                "ring of 8 data pages (+1 metadata) on each of CPUs " + Cpus.online(),
                "trace: program produce is attached to nothing: " + Cpus.online().size() + " thread(s) test-run it",
                "trace: ring buffer producers stopped; drained",
                "trace: perf buffer: closing the reader and the object")) {
            assertTrue(r.out().contains(step), step + " in\n" + r.out());
        }
        for (String buffer : List.of("ring buffer", "perf buffer")) {
            assertTrue(r.out().matches("(?s).*\\ntrace: " + buffer + " 1\\.0 s: produced [\\d,]+, delivered [\\d,]+, "
                    + "lost [\\d,]+\\n.*"), "a line each second for " + buffer + " in\n" + r.out());
        }
    }

    @Test
    void aHalfSkippedByOnlyIsMarkedNotRun() {
        Kernel.requireRoot();
        Objects objects = new Objects();
        Run r = run(new Compare(objects), StopSignal.manual(), "--seconds", "2", "--only", "ring");
        assertEquals(0, r.status(), r.out());
        assertEquals(1, objects.opened.get(), "only the ring half loaded the producer");
        assertEquals(List.of("perf buffer", "not run", "-", "-", "-", "-", "-", "-"), row(r.out(), "perf buffer"));
        assertTrue(r.out().contains("perf buffer not run: skipped by --only ring"), r.out());
        assertTrue(number(row(r.out(), "ring buffer").get(3)) > 0, r.out());
        assertFalse(r.out().matches("(?s).*\\nperf buffer +\\d+\\.\\d/.*"), "no perf progress: " + r.out());
    }

    /** The perf half gets an object that is already closed: a real failure of the library, reported in its row. */
    @Test
    void aHalfThatFailsIsMarkedNotRunWithTheErrorAndTheOtherStillRuns() {
        Kernel.requireRoot();
        Objects shipped = new Objects();
        Compare compare = new Compare(b -> {
            BpfObject o = shipped.apply(b);
            if (b == Buffer.PERF) {
                o.close();
            }
            return o;
        });
        Run r = run(compare, StopSignal.manual(), "--seconds", "2");
        assertEquals(1, r.status(), "a failed half fails the command: " + r.out());
        assertEquals("not run", row(r.out(), "perf buffer").get(1), r.out());
        assertTrue(r.out().contains("perf buffer not run: failed: BPF object 'producer' is closed"), r.out());
        assertTrue(number(row(r.out(), "ring buffer").get(3)) > 0, r.out());
    }

    /** With no half to show, the failure itself is the command's (as a missing privilege is, run without one). */
    @Test
    void whenEveryHalfFailsTheFailureIsThrownNotATableOfNotRun() {
        Kernel.requireRoot();
        Objects shipped = new Objects();
        Compare compare = new Compare(b -> {
            BpfObject o = shipped.apply(b);
            o.close();
            return o;
        });
        BpfException e = assertThrows(BpfException.class, () -> run(compare, StopSignal.manual(), "--seconds", "2"));
        assertTrue(e.getMessage().contains("BPF object 'producer' is closed"), e.getMessage());
        assertEquals(1, e.getSuppressed().length, "the perf half's failure rides along");
        assertEquals(2, shipped.opened.get(), "both halves were tried");
    }

    @Test
    void ctrlCDuringTheRingHalfLeavesThePerfHalfNotRun() throws Exception {
        Kernel.requireRoot();
        StopSignal stop = StopSignal.manual();
        Thread raiser = raiseAfter(stop, Duration.ofMillis(1500));
        Run r = run(new Compare(), stop, "--seconds", "40");
        raiser.join();
        assertEquals(0, r.status(), r.out());
        assertTrue(r.out().contains("perf buffer not run: stopped (Ctrl-C) before its turn"), r.out());
        assertEquals("not run", row(r.out(), "perf buffer").get(1), r.out());
        List<String> ring = row(r.out(), "ring buffer");
        assertEquals(number(ring.get(2)), number(ring.get(3)) + number(ring.get(4)), ring.toString());
        assertTrue(r.out().matches("(?s).*\\nring buffer stopped \\(Ctrl-C\\) after \\d+\\.\\d of its 20\\.0 s.*"),
                r.out());
    }

    /** Ctrl-C in a warm-up leaves nothing counted: that half is not run either, not a row of zeros. */
    @Test
    void ctrlCDuringAWarmUpLeavesBothHalvesNotRun() throws Exception {
        Kernel.requireRoot();
        StopSignal stop = StopSignal.manual();
        Thread raiser = raiseAfter(stop, Duration.ofMillis(1500));
        Run r = run(new Compare(), stop, "--seconds", "4", "--warmup", "30");
        raiser.join();
        assertEquals(0, r.status(), r.out());
        assertTrue(r.out().contains("ring buffer not run: stopped (Ctrl-C) during its warm-up"), r.out());
        assertTrue(r.out().contains("perf buffer not run: stopped (Ctrl-C) before its turn"), r.out());
        assertEquals("not run", row(r.out(), "ring buffer").get(1), r.out());
    }

    private static Thread raiseAfter(StopSignal stop, Duration delay) {
        return Thread.ofVirtual().start(() -> {
            try {
                Thread.sleep(delay);
            } catch (InterruptedException e) {
                return;
            }
            stop.raise();
        });
    }
}
