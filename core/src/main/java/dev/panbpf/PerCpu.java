package dev.panbpf;

/**
 * PerCpu knows the per-CPU map types, whose lookups and updates carry one value per possible CPU, each padded
 * to 8 bytes: {@code | value cpu 0 | pad | value cpu 1 | pad | ... |}.
 */
final class PerCpu {
    private PerCpu() { }

    /** BPF_MAP_TYPE_LRU_PERCPU_HASH and BPF_MAP_TYPE_PERCPU_CGROUP_STORAGE, which MapType has no name for. */
    private static final int LRU_PERCPU_HASH = 10;
    private static final int PERCPU_CGROUP_STORAGE = 21;

    private static final class Possible {
        static final int CPUS = Cpus.possible().size();
    }

    /** Whether maps of {@code type} hold a value per CPU. */
    static boolean isPerCpu(int type) {
        return type == MapType.PERCPU_ARRAY.value() || type == MapType.PERCPU_HASH.value()
                || type == LRU_PERCPU_HASH || type == PERCPU_CGROUP_STORAGE;
    }

    /** Bytes of a value buffer for a map of {@code type} whose values have {@code valueSize} bytes. */
    static long valueBufferSize(int type, long valueSize) {
        return isPerCpu(type) ? (valueSize + 7L) / 8 * 8 * Possible.CPUS : valueSize;
    }
}
