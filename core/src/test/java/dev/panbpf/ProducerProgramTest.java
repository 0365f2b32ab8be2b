package dev.panbpf;

import dev.panbpf.bindings.perf_event_attr;
import dev.panbpf.bindings.perf_event_h;
import dev.panbpf.bindings.perf_event_mmap_page;
import dev.panbpf.bindings.sys_mman_h;
import dev.panbpf.bpf.BpfPrograms;
import dev.panbpf.internal.Fd;
import dev.panbpf.internal.Sys;
import dev.panbpf.testing.Kernel;
import dev.panbpf.testing.ProducerConfig;
import dev.panbpf.testing.ProducerCounters;
import dev.panbpf.testing.ProducerObject;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import static org.junit.jupiter.api.Assertions.*;

/** The shared producer from bpf-src, loaded through libbpf and driven by BPF_PROG_TEST_RUN. */
class ProducerProgramTest {
    @BeforeAll
    static void root() {
        Kernel.requireRoot();
    }

    static void configure(BpfObject obj, int count, int size, int discardEvery, int target) {
        configure(obj, count, size, discardEvery, 0, target, 0);
    }

    /** Writes the config through the generated skeleton's typed map accessor. */
    static void configure(BpfObject obj, int count, int size, int discardEvery, int rbFlags, int target,
                          int wakeupEvery) {
        ProducerObject.of(obj).updateConfig(0,
                new ProducerConfig(count, size, discardEvery, rbFlags, target, wakeupEvery));
    }

    static ProducerCounters counters(BpfObject obj) {
        ProducerCounters c = ProducerObject.of(obj).lookupCounters(0);
        assertNotNull(c, "counters[0]");
        return c;
    }

    @Test
    void runsTheProducerAndCountsItsRecordsInTheCountersMap() {
        try (BpfObject obj = BpfObject.open(BpfPrograms.bytes("producer.bpf.o"), "producer")) {
            obj.load();
            configure(obj, 3, 64, 0, 1);
            BpfProgram.RunResult r = obj.program("produce").testRun(new byte[64], 10);
            assertEquals(2, r.retval(), "XDP_PASS");
            assertEquals(30, counters(obj).seq());
            assertEquals(30, counters(obj).ringOk() + counters(obj).ringFailed());
            assertEquals(0, counters(obj).ringDiscarded());
        }
    }

    @Test
    void discardsEveryKthRingRecordAndCountsPerfFailuresWithoutAReader() {
        try (BpfObject obj = BpfObject.openResource("dev/panbpf/bpf/producer.bpf.o")) {
            obj.load();
            configure(obj, 10, 100, 5, 3);
            obj.program("produce").testRun(new byte[64], 2);
            assertEquals(20, counters(obj).seq());
            assertEquals(4, counters(obj).ringDiscarded());
            assertEquals(16, counters(obj).ringOk());
            // No perf event is installed in pb for this CPU, so every output fails (and is counted).
            assertEquals(20, counters(obj).perfFailed());
        }
    }

    /**
     * epoll hears of a ring only through the kernel's wakeups (its ready list is filled by wakeup callbacks), so
     * after records submitted with BPF_RB_NO_WAKEUP an epoll that registered the empty ring stays silent, and a
     * wakeup_every of n makes the n-th record wake it.
     */
    @Test
    void wakeupEveryForcesAWakeupOnTheNthRecordOnly() {
        int noWakeup = 1;
        for (int every : new int[] {0, 4}) {
            try (BpfObject obj = BpfObject.open(BpfPrograms.bytes("producer.bpf.o"), "producer");
                 dev.panbpf.internal.Epoll epoll = new dev.panbpf.internal.Epoll(4)) {
                obj.load();
                epoll.add(obj.map("rb").fd(), 1 /* EPOLLIN */, 7);
                configure(obj, 3, 16, 0, noWakeup, 1, every);
                obj.program("produce").testRun(new byte[64], 1);
                assertEquals(0, epoll.await(0), "three records, none the 4th: no wakeup (wakeup_every " + every + ")");
                obj.program("produce").testRun(new byte[64], 1);
                assertEquals(every == 0 ? 0 : 1, epoll.await(0), "six records, wakeup_every " + every);
            }
        }
    }

    @Test
    void writesTheContractPayloadToTheRingBufferAndMarksDiscards() {
        int size = 40;
        try (BpfObject obj = BpfObject.open(BpfPrograms.bytes("producer.bpf.o"), "producer").load();
             Arena arena = Arena.ofConfined()) {
            configure(obj, 4, size, 2, 1);
            obj.program("produce").testRun(arena.allocate(64), 1, 0);
            BpfMap rb = obj.map("rb");
            // Read the ring without a consumer: producer page, then the data area (see KERNEL-NOTES.md).
            long page = Sys.PAGE_SIZE;
            MemorySegment ring = Sys.mmap(arena, page + 2L * rb.maxEntries(), sys_mman_h.PROT_READ(), rb.fd(), page,
                    "producer page and data");
            assertEquals(4L * (8 + size), ring.get(ValueLayout.JAVA_LONG, 0), "producer position");
            long prevTs = 0;
            for (int seq = 0; seq < 4; seq++) {
                MemorySegment rec = ring.asSlice(page + (long) seq * (8 + size), 8 + size);
                int len = rec.get(ValueLayout.JAVA_INT, 0);
                boolean discarded = (len & (1 << 30)) != 0;
                assertEquals(seq % 2 == 1, discarded, "record " + seq + " (discard every 2nd)");
                assertEquals(size, len & 0x3fffffff);
                MemorySegment p = rec.asSlice(8);
                assertEquals(seq, p.get(ValueLayout.JAVA_LONG, 0), "seq");
                long ts = p.get(ValueLayout.JAVA_LONG, 8);
                assertTrue(ts >= prevTs && ts > 0, "ts");
                prevTs = ts;
                assertEquals(0, p.get(ValueLayout.JAVA_INT, 16), "cpu (the run was pinned to CPU 0)");
                assertEquals(seq, p.get(ValueLayout.JAVA_INT, 20), "cpu_seq");
                for (int i = 24; i < size; i++) {
                    assertEquals((byte) (seq + i), p.get(ValueLayout.JAVA_BYTE, i), "pattern byte " + i);
                }
            }
        }
    }

    @Test
    void sizeZeroCyclesThroughTheMixedSizesBySeq() {
        int[] sizes = {8, 40, 200, 1500, 72, 3000};
        try (BpfObject obj = BpfObject.open(BpfPrograms.bytes("producer.bpf.o"), "producer").load();
             Arena arena = Arena.ofConfined()) {
            configure(obj, 14, 0, 0, 1);
            obj.program("produce").testRun(arena.allocate(64), 1, 0);
            BpfMap rb = obj.map("rb");
            long page = Sys.PAGE_SIZE;
            MemorySegment ring = Sys.mmap(arena, page + 2L * rb.maxEntries(), sys_mman_h.PROT_READ(), rb.fd(), page,
                    "producer page and data");
            long at = 0;
            for (int seq = 0; seq < 14; seq++) {
                MemorySegment rec = ring.asSlice(page + at);
                int len = rec.get(ValueLayout.JAVA_INT, 0) & 0x3fffffff;
                assertEquals(sizes[seq % 6], len, "record " + seq);
                assertEquals(seq, rec.get(ValueLayout.JAVA_LONG, 8), "seq");
                if (len > 24) {
                    assertEquals((byte) (seq + len - 1), rec.get(ValueLayout.JAVA_BYTE, 8 + len - 1), "last byte");
                }
                at += (len + 8 + 7) & ~7;
            }
            assertEquals(at, ring.get(ValueLayout.JAVA_LONG, 0), "producer position");
        }
    }

    @Test
    void writesTheSamePayloadToThePerfBufferOfItsCpu() {
        int size = 30;
        try (BpfObject obj = BpfObject.open(BpfPrograms.bytes("producer.bpf.o"), "producer").load();
             Arena arena = Arena.ofConfined()) {
            // A minimal perf buffer on CPU 0: one BPF_OUTPUT event, one metadata page plus one data page.
            MemorySegment attr = perf_event_attr.allocate(arena);
            perf_event_attr.type(attr, perf_event_h.PERF_TYPE_SOFTWARE());
            perf_event_attr.size(attr, (int) perf_event_attr.sizeof());
            perf_event_attr.config(attr, perf_event_h.PERF_COUNT_SW_BPF_OUTPUT());
            perf_event_attr.sample_type(attr, perf_event_h.PERF_SAMPLE_RAW());
            perf_event_attr.wakeup_events(attr, 1);
            try (Fd event = new Fd(Sys.perfEventOpen(attr, -1, 0, -1, perf_event_h.PERF_FLAG_FD_CLOEXEC()), "perf")) {
                long page = Sys.PAGE_SIZE;
                MemorySegment mmap = Sys.mmap(arena, 2 * page, sys_mman_h.PROT_READ() | sys_mman_h.PROT_WRITE(),
                        event.get(), 0, "perf buffer");
                Sys.ioctl(event.get(), perf_event_h.PERF_EVENT_IOC_ENABLE(), 0, "enable");
                obj.map("pb").update(0, event.get());
                configure(obj, 2, size, 0, 2);
                obj.program("produce").testRun(arena.allocate(64), 1, 0);
                assertEquals(2, counters(obj).perfOk());
                long head = perf_event_mmap_page.data_head(mmap);
                MemorySegment data = mmap.asSlice(page, page);
                long at = 0;
                for (int seq = 0; seq < 2; seq++) {
                    assertEquals(perf_event_h.PERF_RECORD_SAMPLE(), data.get(ValueLayout.JAVA_INT, at));
                    int recordSize = Short.toUnsignedInt(data.get(ValueLayout.JAVA_SHORT, at + 6));
                    assertTrue(data.get(ValueLayout.JAVA_INT, at + 8) >= size, "raw size covers the payload");
                    // The raw bytes start 12 bytes into the record, so the u64 fields are not 8-byte aligned.
                    MemorySegment p = data.asSlice(at + 12, size);
                    assertEquals(seq, p.get(ValueLayout.JAVA_LONG_UNALIGNED, 0));
                    assertEquals(0, p.get(ValueLayout.JAVA_INT_UNALIGNED, 16));
                    for (int i = 24; i < size; i++) {
                        assertEquals((byte) (seq + i), p.get(ValueLayout.JAVA_BYTE, i), "pattern byte " + i);
                    }
                    at += recordSize;
                }
                assertEquals(head, at, "two records and nothing else");
            }
        }
    }
}
