package dev.panbpf.event;

import dev.panbpf.event.StructShape.Field;
import dev.panbpf.testing.ProducerConfig;
import dev.panbpf.testing.ProducerCounters;
import dev.panbpf.testing.ProducerScratch;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The records the generator wrote from producer.bpf.o (committed in dev.panbpf.testing, kept current by the
 * samples' GeneratedSkeletonsTest) have gcc's layout of the structs in the BPF C source itself: a probe that
 * includes producer.bpf.c, compiled for this machine with gcc, prints sizeof and every member's offsetof and
 * sizeof, and each must be the record's. The BTF check at load compares against clang's BPF output; this one
 * compares against a second compiler reading the same source.
 */
class GeneratedRecordsGccLayoutTest {
    private static final Path SOURCE = Path.of("../bpf-src/src/main/bpf/producer.bpf.c").toAbsolutePath().normalize();
    private static final Map<Class<? extends Record>, String> RECORDS = Map.of(
            ProducerConfig.class, "producer_config",
            ProducerCounters.class, "producer_counters",
            ProducerScratch.class, "producer_scratch");

    @Test
    void everyGeneratedRecordHasGccsLayoutOfItsStructInTheCSource() throws Exception {
        StringBuilder c = new StringBuilder("#include \"" + SOURCE + "\"\n#include <stdio.h>\n#include <stddef.h>\n"
                + "int main(void) {\n");
        for (var e : RECORDS.entrySet()) {
            String s = e.getValue();
            c.append("    printf(\"S ").append(s).append(" %zu\\n\", sizeof(struct ").append(s).append("));\n");
            for (Field f : StructShape.of(e.getKey()).fields()) {
                String m = snake(f.name());
                c.append("    printf(\"M ").append(s).append('.').append(m).append(" %zu %zu\\n\", offsetof(struct ")
                        .append(s).append(", ").append(m).append("), sizeof(((struct ").append(s).append(" *)0)->")
                        .append(m).append("));\n");
            }
        }
        c.append("    return 0;\n}\n");
        Map<String, String> gcc = probe(c.toString());

        List<String> problems = new ArrayList<>();
        for (var e : RECORDS.entrySet()) {
            StructShape shape = StructShape.of(e.getKey());
            String s = e.getValue();
            if (!gcc.get(s).equals(String.valueOf(shape.size()))) {
                problems.add(s + ": gcc sizeof " + gcc.get(s) + ", " + e.getKey().getSimpleName() + " " + shape.size());
            }
            for (Field f : shape.fields()) {
                String key = s + "." + snake(f.name());
                String java = f.offset() + " " + f.size();
                if (!java.equals(gcc.get(key))) {
                    problems.add(key + ": gcc offset/size " + gcc.get(key) + ", Java " + java);
                }
            }
        }
        assertEquals(List.of(), problems);
    }

    /** Runs {@code source}; returns its "S name size" and "M name offset size" lines by name. */
    private static Map<String, String> probe(String source) throws Exception {
        Map<String, String> out = new HashMap<>();
        // -w: the BPF source's map and section declarations are not meant for gcc; only the types matter here.
        for (String line : GccProbe.run(source, "-w").split("\n")) {
            String[] p = line.split(" ", 3);
            out.put(p[1], p[2]);
        }
        return out;
    }

    private static String snake(String camel) {
        return camel.replaceAll("([A-Z])", "_$1").toLowerCase();
    }
}
