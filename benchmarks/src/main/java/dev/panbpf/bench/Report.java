package dev.panbpf.bench;

import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategoryChartBuilder;
import org.knowm.xchart.style.Styler;

import java.awt.Color;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeSet;

/**
 * Report turns JMH's JSON results ({@code -rf json -rff results.json}) into {@code results.md} (the drain table
 * with the panbpf/libbpf ratio per payload size, the cached-consume table, the ordering and end-to-end tables, and {@link MemorySweep}'s
 * and {@link ConsumerCpu}'s tables when {@code memory.md} and {@code cpu.md} are next to it) and {@code drain.png} (the drain chart).
 * Usage: {@code java -cp benchmarks.jar dev.panbpf.bench.Report results.json [out-dir]}.
 */
public final class Report {
    private static final String DRAIN = "DrainBenchmark.";
    private static final String CACHED = "CachedConsumeBenchmark.";
    private static final String ORDERING = "OrderingBenchmark.drain";
    private static final String END_TO_END = "EndToEndBenchmark.poll";
    private static final String[] SERIES = {"ringJava", "ringLibbpf", "perfJava", "perfLibbpf", "ringTyped", "perfTyped"};
    private static final String[] LABELS = {"ring buffer, panbpf", "ring buffer, libbpf", "perf buffer, panbpf",
        "perf buffer, libbpf", "ring buffer, panbpf typed", "perf buffer, panbpf typed"};
    // Ring in blues, perf in oranges; libbpf lighter, typed darker, so each pair reads at a glance.
    private static final Color[] COLORS = {new Color(0x1f77b4), new Color(0x9ecae1), new Color(0xe6550d),
        new Color(0xfdae6b), new Color(0x08306b), new Color(0x7f2704)};

    /** One JMH result: benchmark name, its parameters, the primary score and the raw JSON for the rest. */
    record Row(String benchmark, Map<String, Object> params, double score, double error, Map<String, Object> json) {
        String param(String name) {
            return params == null ? null : (String) params.get(name);
        }
    }

    private final List<Row> rows;

    Report(List<Row> rows) {
        this.rows = rows;
    }

    /** Reads the JSON file and writes results.md and drain.png to the output directory (default: its directory). */
    public static void main(String[] args) throws IOException {
        System.setProperty("java.awt.headless", "true");
        if (args.length < 1) {
            System.err.println("usage: Report results.json [out-dir]");
            System.exit(2);
        }
        Path json = Path.of(args[0]);
        Path out = args.length > 1 ? Path.of(args[1]) : json.toAbsolutePath().getParent();
        Files.createDirectories(out);
        List<Object> results = cast(Json.parse(Files.readString(json)));
        List<Row> rows = new ArrayList<>();
        String jvm = "";
        for (Object o : results) {
            Map<String, Object> r = cast(o);
            Map<String, Object> primary = cast(r.get("primaryMetric"));
            rows.add(new Row((String) r.get("benchmark"), cast(r.get("params")), number(primary.get("score")),
                    number(primary.get("scoreError")), r));
            jvm = r.get("vmName") + " " + r.get("jdkVersion");
        }
        Report report = new Report(rows);
        String md = "Measured " + where(json) + ", JDK: " + jvm + ".\n\n" + report.drainTable()
                + "\n" + report.cachedTable() + "\n" + report.orderingTable() + "\n"
                + report.endToEndTable();
        Path memory = out.resolve("memory.md");
        if (Files.exists(memory)) {  // MemorySweep's table: a size per rate, not a JMH score
            md += "\n" + Files.readString(memory);
        }
        Path cpu = out.resolve("cpu.md");
        if (Files.exists(cpu)) {  // ConsumerCpu's table: CPU time per event, not a JMH score
            md += "\n" + Files.readString(cpu);
        }
        Files.writeString(out.resolve("results.md"), md);
        CategoryChart chart = report.chart();
        if (chart.getSeriesMap().isEmpty()) {  // a run that left DrainBenchmark out: nothing to draw
            Files.deleteIfExists(out.resolve("drain.png"));
        } else {
            BitmapEncoder.saveBitmap(chart, out.resolve("drain.png").toString(), BitmapEncoder.BitmapFormat.PNG);
        }
        System.out.print(md);
    }

    /**
     * The drain table: ns per record for each payload size and consumer, with panbpf/libbpf ratios; the mixed row
     * drains ring records whose size changes from one to the next (8, 40, 200, 1500, 72, 3000 bytes).
     */
    String drainTable() {
        return comparisonTable(DRAIN, "Drain, ns per record (lower is better; ratio = panbpf / libbpf, "
                + "at or below 1.00 meets the target; mixed: ring records of 8, 40, 200, 1500, 72, 3000 bytes in "
                + "turn)", true);
    }

    /** The cached-consume table: the consume loops alone, records already in cache, with panbpf/libbpf ratios. */
    String cachedTable() {
        return comparisonTable(CACHED, "Consume loop with the records already in cache, ns per record "
                + "(CachedConsumeBenchmark; ratio = panbpf / libbpf)", false);
    }

    /**
     * One row per payload size that benchmark class {@code bench} ran: ring and perf, panbpf against libbpf with
     * the ratio, and with {@code typed} the typed rows too. Empty when the run left {@code bench} out.
     */
    private String comparisonTable(String bench, String title, boolean typed) {
        StringBuilder sb = new StringBuilder(title).append(":\n\n| payload | ring panbpf | ring libbpf | ring ratio |")
                .append(typed ? " ring typed |" : "").append(" perf panbpf | perf libbpf | perf ratio |")
                .append(typed ? " perf typed |" : "").append("\n|---:|---:|---:|---:|---:|---:|---:|")
                .append(typed ? "---:|---:|" : "").append('\n');
        boolean any = false;
        for (int size : sizes()) {
            Row rj = find(bench, "ringJava", size);
            Row rl = find(bench, "ringLibbpf", size);
            Row pj = find(bench, "perfJava", size);
            Row pl = find(bench, "perfLibbpf", size);
            if (rj == null && rl == null && pj == null && pl == null) {
                continue;  // a size only the other benchmark ran
            }
            any = true;
            sb.append("| ").append(size).append(" B | ").append(cell(rj)).append(" | ").append(cell(rl)).append(" | ")
                    .append(ratio(rj, rl)).append(" | ");
            if (typed) {
                sb.append(cell(find(bench, "ringTyped", size))).append(" | ");
            }
            sb.append(cell(pj)).append(" | ").append(cell(pl)).append(" | ").append(ratio(pj, pl)).append(" |");
            if (typed) {
                sb.append(' ').append(cell(find(bench, "perfTyped", size))).append(" |");
            }
            sb.append('\n');
        }
        Row mj = find(bench, "ringJavaMixed", null);
        Row ml = find(bench, "ringLibbpfMixed", null);
        if (mj != null || ml != null) {
            any = true;
            sb.append("| mixed | ").append(cell(mj)).append(" | ").append(cell(ml)).append(" | ").append(ratio(mj, ml))
                    .append(typed ? " | – | – | – | – | – |" : " | – | – | – |").append('\n');
        }
        return any ? sb.toString() : "";
    }

    /** The ordering table: drain cost and how far delivery strayed from sequence order, per buffer. */
    String orderingTable() {
        StringBuilder sb = new StringBuilder("Ordering, two producers on CPUs 0 and 1 (64-byte records):\n\n"
                + "| buffer | drain ns/record | out of sequence order | largest displacement | flagged late |\n"
                + "|---|---:|---:|---:|---:|\n");
        Row perf = null;
        Row ordered = null;
        for (Row r : rows) {
            if (!r.benchmark().endsWith(ORDERING)) {
                continue;
            }
            String buffer = r.param("buffer");
            if ("perf".equals(buffer)) {
                perf = r;
            } else if ("ordered".equals(buffer)) {
                ordered = r;
            }
            double records = secondary(r, "records", false);
            double outOfOrder = secondary(r, "outOfOrder", false);
            sb.append("| ").append(switch (buffer) {
                case "ring" -> "ring buffer";
                case "perf" -> "perf buffer (raw)";
                case "ordered" -> "OrderedPerfBuffer";
                default -> buffer;
            }).append(" | ").append(cell(r)).append(" | ")
                    .append(String.format(Locale.ROOT, "%.2f %%", records == 0 ? 0 : 100 * outOfOrder / records))
                    .append(" | ").append((long) secondary(r, "maxDisplacement", true)).append(" | ")
                    .append((long) secondary(r, "late", false)).append(" |\n");
        }
        if (perf != null && ordered != null) {
            sb.append(String.format(Locale.ROOT, "%nOrderedPerfBuffer's added cost: %.1f ns per event "
                    + "(ordered drain minus raw perf drain; target < 20 ns).%n", ordered.score() - perf.score()));
        }
        return sb.toString();
    }

    /** The end-to-end table: events per second delivered to Java and lost, per buffer, CPUs and wakeups. */
    String endToEndTable() {
        StringBuilder sb = new StringBuilder("End to end, producers running flat out on 1 or 2 CPUs while one Java "
                + "thread polls (64-byte records; 16 MiB ring, 16 MiB perf buffer per CPU):\n\n"
                + "| buffer | producer CPUs | wakeups | delivered events/s | lost events/s |\n"
                + "|---|---:|---|---:|---:|\n");
        for (Row r : rows) {
            if (r.benchmark().endsWith(END_TO_END)) {
                sb.append(String.format(Locale.ROOT, "| %s | %s | %s | %,.0f | %,.0f |%n", r.param("buffer"),
                        r.param("cpus"), r.param("wakeups"), secondary(r, "delivered", false),
                        secondary(r, "lost", false)));
            }
        }
        return sb.toString();
    }

    /** A grouped bar chart of the drain results: one group per payload size, one bar per consumer. */
    CategoryChart chart() {
        CategoryChart chart = new CategoryChartBuilder().width(1100).height(550)
                .title("Draining a filled buffer: ns per record (lower is better)")
                .xAxisTitle("payload bytes").yAxisTitle("ns per record").build();
        chart.getStyler().setLegendPosition(Styler.LegendPosition.OutsideS);
        chart.getStyler().setLegendLayout(Styler.LegendLayout.Horizontal);
        chart.getStyler().setAvailableSpaceFill(0.9);
        chart.getStyler().setChartBackgroundColor(Color.WHITE);
        for (int i = 0; i < SERIES.length; i++) {
            List<String> xs = new ArrayList<>();
            List<Double> ys = new ArrayList<>();
            for (int size : drainSizes()) {
                Row r = drain(SERIES[i], size);
                xs.add(Integer.toString(size));
                ys.add(r == null ? null : r.score());  // no bar, rather than a bar of 0 ns
            }
            if (ys.stream().anyMatch(y -> y != null)) {
                chart.addSeries(LABELS[i], xs, ys).setFillColor(COLORS[i]);
            }
        }
        return chart;
    }

    /** The payload sizes DrainBenchmark ran. */
    private TreeSet<Integer> drainSizes() {
        TreeSet<Integer> sizes = new TreeSet<>();
        for (Row r : rows) {
            if (r.benchmark().contains(DRAIN) && r.param("size") != null) {
                sizes.add(Integer.parseInt(r.param("size")));
            }
        }
        return sizes;
    }

    /** The payload sizes DrainBenchmark or CachedConsumeBenchmark ran. */
    private TreeSet<Integer> sizes() {
        TreeSet<Integer> sizes = new TreeSet<>();
        for (Row r : rows) {
            if ((r.benchmark().contains(DRAIN) || r.benchmark().contains(CACHED)) && r.param("size") != null) {
                sizes.add(Integer.parseInt(r.param("size")));
            }
        }
        return sizes;
    }

    private Row drain(String method, int size) {
        return find(DRAIN, method, size);
    }

    /** The row of benchmark class {@code bench} (e.g. "DrainBenchmark."), method and payload size, or null. */
    private Row find(String bench, String method, int size) {
        return find(bench, method, Integer.toString(size));
    }

    /** The row of {@code bench} and {@code method} whose size parameter is {@code size} (null: it has none). */
    private Row find(String bench, String method, String size) {
        for (Row r : rows) {
            if (r.benchmark().endsWith(bench + method) && java.util.Objects.equals(size, r.param("size"))) {
                return r;
            }
        }
        return null;
    }

    private static String cell(Row r) {
        if (r == null) {
            return "–";
        }
        return Double.isNaN(r.error()) ? String.format(Locale.ROOT, "%.1f", r.score())
                : String.format(Locale.ROOT, "%.1f ± %.1f", r.score(), r.error());
    }

    private static String ratio(Row java, Row libbpf) {
        if (java == null || libbpf == null || libbpf.score() == 0) {
            return "–";
        }
        double q = java.score() / libbpf.score();
        return String.format(Locale.ROOT, q <= 1.0 ? "**%.2f**" : "%.2f", q);
    }

    /** A secondary metric: the JMH score (sum over iterations for counters), or the largest per-iteration value. */
    private static double secondary(Row r, String name, boolean max) {
        Map<String, Object> all = cast(r.json().get("secondaryMetrics"));
        Map<String, Object> m = all == null ? null : cast(all.get(name));
        if (m == null) {
            return 0;
        }
        if (!max) {
            return number(m.get("score"));
        }
        double best = 0;
        for (Object fork : (List<?>) m.get("rawData")) {
            for (Object v : (List<?>) fork) {
                best = Math.max(best, number(v));
            }
        }
        return best;
    }

    /**
     * When and on what the numbers were measured: from run.sh's environment.txt next to the JSON file when it is
     * there, else this machine and the file's modification time (right only when the report follows the run).
     */
    static String where(Path json) throws IOException {
        Path env = json.toAbsolutePath().resolveSibling("environment.txt");
        if (Files.exists(env)) {
            Map<String, String> e = new java.util.HashMap<>();
            for (String line : Files.readAllLines(env)) {
                int colon = line.indexOf(": ");
                if (colon > 0) {
                    e.put(line.substring(0, colon), line.substring(colon + 2).trim());
                }
            }
            return e.getOrDefault("date", "?") + " on " + e.getOrDefault("cpu", "unknown CPU") + ", "
                    + e.getOrDefault("kernel", "unknown kernel");
        }
        String when = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm 'UTC'").withZone(ZoneOffset.UTC)
                .format(Instant.ofEpochMilli(Files.getLastModifiedTime(json).toMillis()));
        return when + " on " + machine();
    }

    private static String machine() {
        String cpu = "unknown CPU";
        String kernel = "unknown kernel";
        try {
            for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
                if (line.startsWith("model name")) {
                    cpu = line.substring(line.indexOf(':') + 1).trim();
                    break;
                }
            }
            kernel = "Linux " + Files.readString(Path.of("/proc/sys/kernel/osrelease")).trim();
        } catch (IOException e) {
            // leave the unknowns: the report is still useful without them
        }
        return cpu + " (" + Runtime.getRuntime().availableProcessors() + " CPUs), " + kernel;
    }

    private static double number(Object o) {
        return o instanceof Number n ? n.doubleValue() : Double.parseDouble(String.valueOf(o));
    }

    @SuppressWarnings("unchecked")
    private static <T> T cast(Object o) {
        return (T) o;
    }
}
