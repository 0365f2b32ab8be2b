package dev.panbpf.codegen;

import dev.panbpf.BpfException;
import dev.panbpf.BpfLink;
import dev.panbpf.BpfMap;
import dev.panbpf.BpfObject;
import dev.panbpf.BpfProgram;
import dev.panbpf.event.EventHandler;
import dev.panbpf.event.StructCodec;
import dev.panbpf.event.StructMismatchException;
import dev.panbpf.testing.Kernel;
import dev.panbpf.testing.Syscalls;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static dev.panbpf.codegen.Compiled.call;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Generated skeletons, compiled and run against the kernel. */
class SkeletonBehaviourTest {
    private static final Path OBJECTS = GeneratedSourcesTest.OBJECTS;

    @BeforeAll
    static void root() {
        Kernel.requireRoot();
    }

    @Test
    void everyGeneratedRecordMatchesItsStructInBtf(@TempDir Path dir) throws Throwable {
        int checked = 0;
        for (Path o : GeneratedSourcesTest.committedObjects()) {
            Generator.Result r = Generator.of(o).packageName("gen.layout").generate();
            try (Compiled c = Compiled.of(r, dir.resolve(o.getFileName().toString()));
                 BpfObject obj = BpfObject.open(o)) {
                for (var e : r.records().entrySet()) {
                    @SuppressWarnings({"unchecked", "rawtypes"})
                    StructCodec<?> codec = StructCodec.of((Class) c.type("gen.layout." + e.getValue()));
                    codec.verify(obj, e.getKey());
                    assertEquals(obj.describe().structs().contains(e.getKey()), true);
                    checked++;
                }
            }
        }
        assertTrue(checked >= 8, "only " + checked + " records were generated over the committed objects");
    }

    @Test
    void globalsRoundTripThroughTheLiveMappingAndAttachAllAttachesAndCloses(@TempDir Path dir) throws Throwable {
        Kernel.requireTracefs();
        Generator.Result r = Generator.of(OBJECTS.resolve("syscalls.bpf.o")).packageName("gen.sys").generate();
        try (Compiled c = Compiled.of(r, dir)) {
            Object skel = call(c.type("gen.sys.SyscallsObject"), "open", OBJECTS.resolve("syscalls.bpf.o"));
            try (AutoCloseable closeSkeleton = (AutoCloseable) skel) {
                long tid = Syscalls.gettid();
                call(skel, "setTargetTid", tid);                 // .rodata, before load
                assertEquals(tid, call(skel, "targetTid"));
                call(skel, "load");
                assertEquals(tid, call(skel, "targetTid"));      // now read from the frozen kernel copy
                BpfException ro = assertThrows(BpfException.class, () -> call(skel, "setTargetTid", 1L));
                assertTrue(ro.getMessage().contains("before load()"), ro.getMessage());

                call(skel, "setRawGetpidCalls", 1000L);          // .bss, live
                BpfObject obj = (BpfObject) call(skel, "object");
                assertEquals(1000L, obj.global("raw_getpid_calls").get(java.lang.foreign.ValueLayout.JAVA_LONG, 0));
                AutoCloseable links = (AutoCloseable) call(skel, "attachAll");
                @SuppressWarnings("unchecked")
                List<BpfLink> all = (List<BpfLink>) call(links, "links");
                assertEquals(2, all.size());
                for (int i = 0; i < 7; i++) {
                    Syscalls.getpid();
                }
                assertEquals(1007L, call(skel, "rawGetpidCalls"));
                assertEquals(7L, ((BpfMap) call(skel, "getpidCalls")).lookupLong(0));
                links.close();
                all.forEach(l -> assertTrue(l.isClosed(), l + " still open"));
                Syscalls.getpid();
                assertEquals(1007L, call(skel, "rawGetpidCalls"));
            }
        }
    }

    @Test
    void typedRingReaderDeliversRecordsAndMapsTakeRecords(@TempDir Path dir) throws Throwable {
        Path object = TestObjects.compile("ring_events", dir);
        Generator.Result r = Generator.of(object).packageName("gen.ring").generate();
        assertEquals(List.of(), r.warnings());
        try (Compiled c = Compiled.of(r, dir.resolve("out"))) {
            Object skel = call(c.type("gen.ring.RingEventsObject"), "open", object);
            try (AutoCloseable closeSkeleton = (AutoCloseable) skel) {
                call(skel, "setTag", 77L);
                call(skel, "load");
                BpfProgram send = (BpfProgram) call(skel, "send");
                send.testRun(new byte[64], 3);
                List<Record> got = new ArrayList<>();
                try (AutoCloseable reader = (AutoCloseable) call(skel, "eventsReader")) {
                    EventHandler<Record> h = got::add;
                    call(reader, "poll", h, Duration.ofSeconds(1));
                }
                assertEquals(3, got.size());
                assertEquals("RingEvent[seq=2, len=64, tag=77, mode=MODE_TAGGED]", got.get(2).toString());
                assertEquals(3L, call(skel, "nextSeq"));
            }
            Class<?> mode = c.type("gen.ring.RingMode");
            assertTrue(mode.isEnum(), mode + " is not an enum");
        }
    }

    @Test
    void typedPerfReaderDeliversEachCpusSamplesAsRecords(@TempDir Path dir) throws Throwable {
        Path object = TestObjects.compile("ring_events", dir);
        Generator.Result r = Generator.of(object).packageName("gen.perf").generate();
        try (Compiled c = Compiled.of(r, dir.resolve("out"))) {
            Object skel = call(c.type("gen.perf.RingEventsObject"), "open", object);
            try (AutoCloseable closeSkeleton = (AutoCloseable) skel) {
                call(skel, "setTag", 5L);
                call(skel, "load");
                BpfProgram send = (BpfProgram) call(skel, "sendPerf");
                List<Record> got = new ArrayList<>();
                try (AutoCloseable reader = (AutoCloseable) call(skel, "perfEventsReader")) {
                    int cpu = dev.panbpf.Cpus.online().get(0);
                    send.testRun(java.lang.foreign.Arena.ofAuto().allocate(40), 4, cpu);
                    EventHandler<Record> h = got::add;
                    while (got.size() < 4 && (int) call(reader, "poll", h, Duration.ofSeconds(2)) > 0) {
                        // each poll hands over what the CPU's buffer holds
                    }
                    assertEquals(0L, call(reader, "lost"));
                }
                assertEquals(4, got.size());
                assertEquals("RingEvent[seq=3, len=40, tag=5, mode=MODE_TAGGED]", got.get(3).toString());
            }
        }
    }

    @Test
    void typedReadersWakeUpAPollBlockedInAnotherThread(@TempDir Path dir) throws Throwable {
        Path object = TestObjects.compile("ring_events", dir);
        try (Compiled c = Compiled.of(Generator.of(object).packageName("gen.wake").generate(), dir.resolve("out"))) {
            Object skel = call(c.type("gen.wake.RingEventsObject"), "open", object);
            try (AutoCloseable closeSkeleton = (AutoCloseable) skel) {
                call(skel, "load");
                for (String name : List.of("eventsReader", "perfEventsReader")) {
                    try (AutoCloseable reader = (AutoCloseable) call(skel, name)) {
                        Thread waker = Thread.ofPlatform().start(() -> {
                            try {
                                Thread.sleep(300);
                                call(reader, "wakeup");
                            } catch (Throwable t) {
                                throw new AssertionError(t);
                            }
                        });
                        long t0 = System.nanoTime();
                        EventHandler<Record> h = e -> true;
                        assertEquals(0, call(reader, "poll", h, Duration.ofSeconds(30)), name);
                        assertTrue(System.nanoTime() - t0 < 15_000_000_000L, name + ": woken, not timed out");
                        waker.join();
                        assertEquals(0L, call(reader, "producerDrops"), name);
                    }
                }
            }
        }
    }

    /**
     * When wrapping the object fails (here: a generated record's class is missing from the class path),
     * open(Path) and open() close the object they opened. libbpf maps each data section of an open object as
     * shared memory until it is closed, so the process's shared mappings show whether the object was left open.
     */
    @Test
    void openClosesTheObjectItOpenedWhenWrappingItFails(@TempDir Path dir) throws Throwable {
        Path object = TestObjects.compile("ring_events", dir);
        Generator.Result r = Generator.of(object).packageName("gen.broken").generate();
        try (Compiled c = Compiled.of(r, dir.resolve("out"))) {
            Files.delete(dir.resolve("out/classes/gen/broken/RingEvent.class"));
            Class<?> skeleton = c.type("gen.broken.RingEventsObject");
            long before = sharedMappings();
            try (BpfObject plain = BpfObject.open(object)) {
                assertTrue(sharedMappings() > before, "an open object should hold its data sections' mappings");
            }
            assertEquals(before, sharedMappings(), "closing the object releases them");
            assertThrows(NoClassDefFoundError.class, () -> call(skeleton, "open", object));
            assertEquals(before, sharedMappings(), "open(Path) left the object it opened open");
            String resource = (String) skeleton.getField("RESOURCE").get(null);
            Files.copy(object, dir.resolve("out/classes/gen/broken").resolve(resource));
            assertThrows(NoClassDefFoundError.class, () -> call(skeleton, "open"));
            assertEquals(before, sharedMappings(), "open() left the object it opened open");
        }
    }

    /** The number of shared mappings of this process (the s in /proc/self/maps's permissions). */
    private static long sharedMappings() throws java.io.IOException {
        return Files.readAllLines(Path.of("/proc/self/maps")).stream()
                .filter(l -> l.split(" ")[1].charAt(3) == 's').count();
    }

    @Test
    void aStaleRecordFailsAtLoadWithTheDifferences(@TempDir Path dir) throws Throwable {
        Path v1 = TestObjects.compile("ring_events", dir.resolve("v1"));
        Path v2 = TestObjects.compile("ring_events", dir.resolve("v2"), "-DRING_EVENT_V2");
        try (Compiled c = Compiled.of(Generator.of(v1).packageName("gen.stale").generate(), dir.resolve("out"))) {
            Object skel = call(c.type("gen.stale.RingEventsObject"), "open", v2);
            try (AutoCloseable closeSkeleton = (AutoCloseable) skel) {
                StructMismatchException e = assertThrows(StructMismatchException.class, () -> call(skel, "load"));
                assertTrue(e.getMessage().contains("struct ring_event"), e.getMessage());
                assertFalse(e.differences().isEmpty());
                assertFalse(((BpfObject) call(skel, "object")).isLoaded());
            }
        }
    }
}
