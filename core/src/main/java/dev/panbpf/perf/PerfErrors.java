package dev.panbpf.perf;

import dev.panbpf.BpfException;

import static dev.panbpf.perf.PerfLayout.recordSize;
import static dev.panbpf.perf.PerfLayout.recordType;

/** PerfErrors builds the exceptions of {@link PerfCursor}, out of its file: records and positions that cannot be. */
final class PerfErrors {
    private PerfErrors() { }

    static BpfException tooShort(int cpu, boolean timestamps, String type, int size, long pos, int needed) {
        return corrupt(cpu, "a " + type + " record of " + size + " bytes at position " + pos + " is shorter than the "
                + needed + " bytes its fields take" + (type.equals("SAMPLE") && timestamps ? " (with timestamps)" : "")
                + "; the record was skipped");
    }

    static BpfException sizeMismatch(int cpu, long raw, long declared, String option) {
        long lo = Math.max(0, raw - 7);
        return new BpfException("perf sample on CPU " + cpu + " has " + raw + " raw bytes, so the program sent "
                + lo + ".." + raw + " bytes, but the " + option + " option says " + declared + "; the record was "
                + "skipped. Make the option match what the BPF program passes to bpf_perf_event_output");
    }

    static BpfException unfindable(int cpu, long header, long pos, long head) {
        return corrupt(cpu, "a record of type " + recordType(header) + " and size " + recordSize(header) + " at position "
                + pos + " cannot be; " + (head - pos) + " bytes were skipped to resynchronise on data_head " + head);
    }

    static BpfException corrupt(int cpu, String what) {
        return new BpfException("perf ring of CPU " + cpu + " is corrupt: " + what + ". The kernel never writes "
                + "this, so its mapping was changed by someone else (another process that mapped the event?)");
    }
}
