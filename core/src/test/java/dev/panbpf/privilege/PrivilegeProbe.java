package dev.panbpf.privilege;

import dev.panbpf.BpfMap;
import dev.panbpf.BpfObject;
import dev.panbpf.MapType;
import dev.panbpf.bpf.BpfPrograms;
import dev.panbpf.perf.PerfBuffer;
import dev.panbpf.ringbuf.RingBuffer;

/**
 * PrivilegeProbe runs in a child JVM under reduced privileges (see {@link PrivilegesTest}) and prints one line per
 * step: {@code step: OK} or {@code step: FAIL <exception class>: <message>}.
 */
public final class PrivilegeProbe {
    private PrivilegeProbe() { }

    public static void main(String[] args) {
        step("ringbuf", () -> {
            try (BpfMap map = BpfMap.create(MapType.RINGBUF, 0, 0, 4096 * 4, 0, "priv_rb");
                 RingBuffer ring = RingBuffer.of(map)) {
                ring.consume(r -> true);
            }
        });
        step("perf", () -> {
            try (BpfMap map = BpfMap.create(MapType.PERF_EVENT_ARRAY, 4, 4, 64, 0, "priv_pb");
                 PerfBuffer perf = PerfBuffer.of(map)) {
                perf.consume((cpu, p, t) -> true);
            }
        });
        step("tracepoint", () -> {
            try (BpfObject obj = BpfObject.open(BpfPrograms.bytes("syscalls.bpf.o"), "syscalls")) {
                obj.load();
            }
        });
        step("attach", () -> {
            try (BpfObject obj = BpfObject.open(BpfPrograms.bytes("syscalls.bpf.o"), "syscalls")) {
                obj.load();
                obj.program("count_getpid").attach().close();
            }
        });
        step("xdp", () -> {
            try (BpfObject obj = BpfObject.open(BpfPrograms.bytes("queue.bpf.o"), "queue")) {
                obj.load();
            }
        });
        step("unreadable", () -> {
            try (BpfObject obj = BpfObject.open(java.nio.file.Path.of(args[0]))) {
                obj.load();
            }
        });
        System.out.flush();
    }

    private static void step(String name, Runnable r) {
        try {
            r.run();
            System.out.println(name + ": OK");
        } catch (Throwable t) {
            System.out.println(name + ": FAIL " + t.getClass().getName() + ": "
                    + String.valueOf(t.getMessage()).replace('\n', ' '));
        }
    }
}
