package dev.panbpf.samples.deletions;

import dev.panbpf.event.Size;
import dev.panbpf.event.Unsigned;

/**
 * DeletionEvent is {@code struct deletion_event} of {@code sample_deletions.bpf.c}: who deleted which path.
 *
 * @param pid      the process id (the kernel's tgid) of the caller
 * @param comm     the calling thread's command name, {@code char comm[16]}
 * @param filename the path as passed to the syscall (relative paths stay relative), {@code char filename[256]}
 */
public record DeletionEvent(@Unsigned int pid, @Size(16) String comm, @Size(256) String filename) {
    @Override
    public String toString() {
        return String.format("pid %-7d %-16s %s", pid, comm, filename);
    }
}
