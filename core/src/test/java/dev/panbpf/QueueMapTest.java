package dev.panbpf;

import dev.panbpf.bindings.bpf_h;
import dev.panbpf.testing.Kernel;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.lang.foreign.ValueLayout;

import static org.junit.jupiter.api.Assertions.*;

/** Queue and stack maps: push, pop and peek from Java, and a BPF program on the other end (queue.bpf.o). */
class QueueMapTest {
    @BeforeAll
    static void root() {
        Kernel.requireRoot();
    }

    @Test
    void queuePopsInPushOrderAndStackInReverse() {
        try (BpfMap queue = BpfMap.create(MapType.QUEUE, 0, 8, 16, 0, "q");
             BpfMap stack = BpfMap.create(MapType.STACK, 0, 8, 16, 0, "s")) {
            for (long v = 1; v <= 5; v++) {
                queue.push(v);
                stack.push(v);
            }
            assertEquals(1L, queue.peekLong());
            assertEquals(5L, stack.peekLong());
            for (long v = 1; v <= 5; v++) {
                assertEquals(v, queue.popLong());
                assertEquals(6 - v, stack.popLong());
            }
            assertNull(queue.popLong());
            assertNull(queue.peekLong());
        }
    }

    @Test
    void intValuesPeekAndPopWithoutTakingTwice() {
        try (BpfMap queue = BpfMap.create(MapType.QUEUE, 0, 4, 4, 0, "q")) {
            queue.push(7);
            queue.push(8);
            assertEquals(7, queue.peekInt());
            assertEquals(7, queue.popInt());
            assertEquals(8, queue.peekInt());
            assertEquals(8, queue.popInt());
            assertNull(queue.peekInt());
            assertThrows(IllegalArgumentException.class, queue::peekLong, "8 bytes from a queue of 4-byte values");
        }
    }

    @Test
    void fullQueueRefusesAPushUnlessAskedToDropTheOldest() {
        try (BpfMap queue = BpfMap.create(MapType.QUEUE, 0, 4, 4, 0, "q")) {
            for (int v = 0; v < 4; v++) {
                queue.push(v);
            }
            BpfException e = assertThrows(BpfException.class, () -> queue.push(4));
            assertEquals("E2BIG", e.errnoName());
            try (var a = java.lang.foreign.Arena.ofConfined()) {
                queue.push(a.allocateFrom(ValueLayout.JAVA_INT, 4), bpf_h.BPF_EXIST());
            }
            assertEquals(1, queue.popInt());
        }
    }

    @Test
    void javaPopsWhatTheProgramPushedInOrder() {
        try (BpfObject obj = BpfObject.openResource("dev/panbpf/bpf/queue.bpf.o")) {
            obj.setGlobal("push_count", 5).setGlobal("next_value", 100L).load();
            obj.program("push_values").testRun(new byte[64]);
            BpfMap values = obj.map("values");
            for (long v = 100; v < 105; v++) {
                assertEquals(v, values.popLong());
            }
            assertNull(values.popLong());
        }
    }

    @Test
    void programPopsWhatJavaPushed() {
        try (BpfObject obj = BpfObject.openResource("dev/panbpf/bpf/queue.bpf.o")) {
            obj.load();
            for (long v = 1; v <= 10; v++) {
                obj.map("values").push(v);
            }
            obj.program("pop_values").testRun(new byte[64]);
            assertEquals(55L, obj.global("popped_sum").get(ValueLayout.JAVA_LONG, 0));
            assertEquals(10L, obj.global("popped_count").get(ValueLayout.JAVA_LONG, 0));
            assertNull(obj.map("values").popLong());
        }
    }

    @Test
    void pushOnAnArrayMapSaysItNeedsAQueue() {
        try (BpfMap array = BpfMap.create(MapType.ARRAY, 4, 8, 1, 0, "a")) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> array.push(1L));
            assertTrue(e.getMessage().contains("queue and stack"), e.getMessage());
        }
    }
}
