package dev.panbpf.samples.compare;

/** Buffer is one of the two kinds {@code compare} measures, with its name in the table and on the command line. */
enum Buffer {
    /** The BPF ring buffer: one ring shared by every CPU. */
    RING("ring buffer", "ring", 1),
    /** The perf buffer: one ring per CPU. */
    PERF("perf buffer", "perf", 2);

    private final String title;
    private final String word;
    private final int target;

    Buffer(String title, String word, int target) {
        this.title = title;
        this.word = word;
        this.target = target;
    }

    /** The name in the table and in progress lines, such as {@code ring buffer}. */
    String title() {
        return title;
    }

    /** The word {@code --only} takes, such as {@code ring}. */
    String word() {
        return word;
    }

    /** The producer_config.target bit that sends records to this buffer (rb: 1, pb: 2). */
    int target() {
        return target;
    }
}
