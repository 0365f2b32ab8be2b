package dev.panbpf.internal;

import dev.panbpf.bindings.bpf_h;

import java.lang.reflect.Method;
import java.util.HashMap;
import java.util.Map;

/** BpfCommands names the constants of linux/bpf.h for messages: commands, map types and program types. */
public final class BpfCommands {
    private BpfCommands() { }

    private static final java.util.Set<String> CMDS = java.util.Set.of("BPF_MAP_CREATE", "BPF_MAP_LOOKUP_ELEM",
            "BPF_MAP_UPDATE_ELEM", "BPF_MAP_DELETE_ELEM", "BPF_MAP_GET_NEXT_KEY", "BPF_PROG_LOAD", "BPF_PROG_TEST_RUN",
            "BPF_OBJ_GET_INFO_BY_FD", "BPF_MAP_LOOKUP_AND_DELETE_ELEM", "BPF_MAP_FREEZE", "BPF_LINK_CREATE");
    private static final Map<Integer, String> COMMANDS = byPrefix("BPF_", "BPF_MAP_TYPE_", "BPF_PROG_TYPE_");
    private static final Map<Integer, String> MAP_TYPES = byPrefix("BPF_MAP_TYPE_");
    private static final Map<Integer, String> PROG_TYPES = byPrefix("BPF_PROG_TYPE_");

    private static Map<Integer, String> byPrefix(String prefix, String... notPrefixes) {
        Map<Integer, String> m = new HashMap<>();
        for (Method c : bpf_h.class.getDeclaredMethods()) {
            String n = c.getName();
            if (c.getParameterCount() != 0 || c.getReturnType() != int.class || !n.startsWith(prefix)) {
                continue;
            }
            boolean excluded = false;
            for (String np : notPrefixes) {
                excluded |= n.startsWith(np);
            }
            if (!excluded && (notPrefixes.length == 0 || isCommand(n))) {
                try {
                    m.putIfAbsent((int) c.invoke(null), n);
                } catch (ReflectiveOperationException e) {
                    throw new IllegalStateException(e);
                }
            }
        }
        return Map.copyOf(m);
    }

    private static boolean isCommand(String n) {
        return CMDS.contains(n);
    }

    /** The name of a bpf(2) command. */
    public static String name(int cmd) {
        return COMMANDS.getOrDefault(cmd, "command " + cmd);
    }

    /** The name of a map type, such as BPF_MAP_TYPE_RINGBUF. */
    public static String mapType(int type) {
        return MAP_TYPES.getOrDefault(type, "map type " + type);
    }

    /** The name of a program type, such as BPF_PROG_TYPE_XDP. */
    public static String progType(int type) {
        return PROG_TYPES.getOrDefault(type, "program type " + type);
    }
}
