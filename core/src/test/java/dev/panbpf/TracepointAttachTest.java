package dev.panbpf;

import dev.panbpf.testing.Kernel;
import dev.panbpf.testing.Syscalls;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import static org.junit.jupiter.api.Assertions.*;

/** syscalls.bpf.o: programs attached to a tracepoint and a raw tracepoint see the test's own getpid calls. */
class TracepointAttachTest {
    private static final String OBJECT = "dev/panbpf/bpf/syscalls.bpf.o";

    @BeforeAll
    static void root() {
        Kernel.requireRoot();
    }

    private static void getpid(int times) {
        for (int i = 0; i < times; i++) {
            Syscalls.getpid();
        }
    }

    @Test
    void tracepointProgramCountsThisThreadsGetpidCallsWhileAttached() {
        Kernel.requireTracefs();
        try (BpfObject obj = BpfObject.openResource(OBJECT)) {
            obj.setGlobal("target_tid", Syscalls.gettid());
            obj.load();
            BpfMap calls = obj.map("getpid_calls");
            try (BpfLink link = obj.program("count_getpid").attach()) {
                assertTrue(link.fd() > 2);
                getpid(25);
                assertEquals(25L, calls.lookupLong(0));
            }
            getpid(5);  // detached: no longer counted
            assertEquals(25L, calls.lookupLong(0));
        }
    }

    @Test
    void rawTracepointProgramCountsIntoALiveGlobalVariable() {
        try (BpfObject obj = BpfObject.openResource(OBJECT)) {
            obj.setGlobal("target_tid", Syscalls.gettid());
            obj.load();
            MemorySegment counted = obj.global("raw_getpid_calls");
            obj.program("count_sys_enter").attach();   // closed with the object
            getpid(17);
            assertEquals(17L, counted.get(ValueLayout.JAVA_LONG, 0));
            counted.set(ValueLayout.JAVA_LONG, 0, 1000L);   // .bss is writable from Java after load
            getpid(1);
            assertEquals(1001L, counted.get(ValueLayout.JAVA_LONG, 0));
        }
    }

    @Test
    void globalsHoldInitialValuesBeforeLoadAndRodataIsReadOnlyAfter() {
        try (BpfObject obj = BpfObject.openResource(OBJECT)) {
            assertEquals(0, obj.global("target_tid").get(ValueLayout.JAVA_INT, 0));
            obj.setGlobal("target_tid", 1234);
            assertEquals(1234, obj.global("target_tid").get(ValueLayout.JAVA_INT, 0));
            assertThrows(IllegalArgumentException.class, () -> obj.setGlobal("target_tid", 5L));
            obj.load();
            MemorySegment tid = obj.global("target_tid");
            assertTrue(tid.isReadOnly());
            assertEquals(1234, tid.get(ValueLayout.JAVA_INT, 0));   // the kernel's copy, frozen at load
            BpfException e = assertThrows(BpfException.class, () -> obj.setGlobal("target_tid", 1));
            assertTrue(e.getMessage().contains("before load()"), e.getMessage());
            BpfException unknown = assertThrows(BpfException.class, () -> obj.global("nope"));
            assertTrue(unknown.getMessage().contains("raw_getpid_calls"), unknown.getMessage());
            // The data-section maps are there too, by libbpf's name or by section name.
            assertEquals(obj.map(".rodata").fd(), obj.map("syscalls.rodata").fd());
        }
    }
}
