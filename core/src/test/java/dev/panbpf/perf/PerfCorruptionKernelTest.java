package dev.panbpf.perf;

import dev.panbpf.BpfException;
import dev.panbpf.Cpus;
import dev.panbpf.perf.PerfProducer.Payload;
import dev.panbpf.testing.Kernel;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandles;
import java.util.ArrayList;
import java.util.List;

import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static org.junit.jupiter.api.Assertions.*;

/**
 * Both perf readers over a real kernel ring whose positions the test corrupts as another process that mapped the
 * event could (its metadata page is writable; the data pages are not): each reader raises the same error, naming
 * the CPU and what is wrong, and then reads what the kernel writes next as usual. The readers share one record
 * cursor; this shows it is the one each of them runs. Records that cannot be are tried on fake rings, through
 * the cursor ({@link PerfCursorCorruptionTest}) and the merge ({@link TimestampMergeRingsTest}).
 */
class PerfCorruptionKernelTest {
    private static final int SIZE = 32;
    /** With timestamps: header, time, raw size, then 36 raw bytes. */
    private static final int RECORD = 8 + 8 + 4 + 36;


    private PerfProducer producer;
    private int cpu;
    private final List<Long> seqs = new ArrayList<>();

    @BeforeAll
    static void root() {
        Kernel.requireRoot();
    }

    @BeforeEach
    void load() {
        producer = new PerfProducer().configure(3, SIZE);
        cpu = Cpus.online().getFirst();
    }

    @AfterEach
    void unload() {
        producer.close();
    }

    /** One reader of either kind, read the way its users read it: consume, or flush. */
    private interface Reader extends AutoCloseable {
        int read();

        /** The PerfBuffer or OrderedPerfBuffer. */
        Object reader();

        @Override
        void close();
    }

    private Reader open(String kind) {
        PerfOptions options = PerfProducer.on(List.of(cpu)).timestamps(true).payloadSize(SIZE);
        if (kind.equals("perf")) {
            PerfBuffer pb = PerfBuffer.of(producer.pb(), options);
            return new Reader() {
                public int read() {
                    return pb.consume((c, p, t) -> seqs.add(Payload.of(p).seq()));
                }

                public Object reader() {
                    return pb;
                }

                public void close() {
                    pb.close();
                }
            };
        }
        OrderedPerfBuffer ob = OrderedPerfBuffer.of(producer.pb(), options);
        return new Reader() {
            public int read() {
                return ob.flush((c, p, t, late) -> seqs.add(Payload.of(p).seq()));
            }

            public Object reader() {
                return ob;
            }

            public void close() {
                ob.close();
            }
        };
    }

    /** The mapping of the reader's only ring (metadata page, then data), reached the way a stranger could. */
    private static MemorySegment mapping(Reader reader) throws ReflectiveOperationException {
        PerfCpuSet set = (PerfCpuSet) field(reader.reader(), "set");
        return (MemorySegment) field(set.ring(0), "page");
    }

    private static Object field(Object owner, String name) throws ReflectiveOperationException {
        var f = owner.getClass().getDeclaredField(name);
        return MethodHandles.privateLookupIn(owner.getClass(), MethodHandles.lookup()).unreflectVarHandle(f).get(owner);
    }

    /**
     * Lets the kernel write three records, runs {@code corrupt} on the metadata page (the only part of a perf
     * mapping a process can write), and checks what the reader makes of it: an error naming the CPU that
     * {@code says} what is wrong, nothing delivered from before the head it resynchronised on, and the records
     * written afterwards read as usual.
     */
    private void check(String kind, java.util.function.Consumer<MemorySegment> corrupt, String... says)
            throws Exception {
        try (Reader reader = open(kind)) {
            MemorySegment page = mapping(reader);
            producer.run(cpu, 1);
            corrupt.accept(page);
            BpfException e = assertThrows(BpfException.class, reader::read);
            assertTrue(e.getMessage().contains("CPU " + cpu + " is corrupt"), e.getMessage());
            for (String s : says) {
                assertTrue(e.getMessage().contains(s), kind + ": " + e.getMessage());
            }
            assertEquals(0, reader.read(), kind + ": nothing between the damage and the head is trusted");
            assertEquals(List.of(), seqs);
            producer.run(cpu, 1);
            assertEquals(3, reader.read(), kind + ": what the kernel writes afterwards is read as usual");
            assertEquals(3, seqs.stream().distinct().count(), "each once");
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"perf", "ordered"})
    void anUnalignedTailStopsBothReadersAlike(String kind) throws Exception {
        check(kind, page -> page.set(JAVA_LONG, PerfLayout.DATA_TAIL, 4L), "not 8-byte aligned");
    }

    @ParameterizedTest
    @ValueSource(strings = {"perf", "ordered"})
    void aTailInsideARecordStopsBothReadersAtTheSameRecordThatCannotBe(String kind) throws Exception {
        // At 16 lie the raw size (36) and the payload's first bytes (a small sequence number): read as a
        // header, type 36 and size 0.
        check(kind, page -> page.set(JAVA_LONG, PerfLayout.DATA_TAIL, 16L),
                "a record of type 36 and size 0 at position 16 cannot be", "bytes were skipped to resynchronise");
    }

    @ParameterizedTest
    @ValueSource(strings = {"perf", "ordered"})
    void aTailAheadOfTheHeadStopsBothReadersAlike(String kind) throws Exception {
        check(kind, page -> page.set(JAVA_LONG, PerfLayout.DATA_TAIL, 3L * RECORD + 64), "is behind data_tail");
    }
}
