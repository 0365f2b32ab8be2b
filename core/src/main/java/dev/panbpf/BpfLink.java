package dev.panbpf;

import dev.panbpf.bindings.libbpf_h;

import java.lang.foreign.MemorySegment;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * BpfLink is an attachment of a program (to a tracepoint, an interface, ...); closing it detaches the program.
 * Links still open when their {@link BpfObject} closes are closed with it.
 */
public final class BpfLink implements AutoCloseable {
    private final BpfObject owner;
    private final MemorySegment link;
    private final String what;
    private final AtomicBoolean closed = new AtomicBoolean();

    BpfLink(BpfObject owner, MemorySegment link, String what) {
        this.owner = owner;
        this.link = link;
        this.what = what;
    }

    /** {@return the link's file descriptor; throws once the link is closed} */
    public int fd() {
        if (closed.get()) {
            throw new BpfException(what + " is closed");
        }
        return libbpf_h.bpf_link__fd(link);
    }

    /** {@return whether the link was closed (the program detached)} */
    public boolean isClosed() {
        return closed.get();
    }

    /** Detaches the program and frees the link; only the first call does anything. */
    @Override
    public void close() {
        if (closed.compareAndSet(false, true)) {
            libbpf_h.bpf_link__destroy(link);
            owner.forget(this);
        }
    }

    @Override
    public String toString() {
        return what + (closed.get() ? " (closed)" : "");
    }
}
