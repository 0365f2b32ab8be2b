package dev.panbpf.internal;

import dev.panbpf.bindings.libbpf_h;
import dev.panbpf.bindings.libbpf_print_fn_t;
import dev.panbpf.bindings.stdio_h;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;

/**
 * LibbpfLog receives libbpf's messages through {@code libbpf_set_print} and logs them to the SLF4J logger
 * {@code dev.panbpf.libbpf} at the matching level (WARN, INFO, DEBUG). A thread can also {@link #capture()} the
 * messages libbpf prints while it works (libbpf prints on the calling thread), which is how a failed load gets
 * the verifier log into its exception.
 */
public final class LibbpfLog {
    private LibbpfLog() { }

    private static final Logger LOG = LoggerFactory.getLogger("dev.panbpf.libbpf");
    private static final ThreadLocal<List<String>> CAPTURE = new ThreadLocal<>();
    /** First try with this many bytes; longer messages (whole verifier logs) are formatted a second time. */
    private static final int FIRST_TRY = 1024;
    /**
     * Bytes of a va_list object, copied to format it twice (what va_copy does): System V x86-64 and AAPCS64 pass
     * a pointer to the object. Other ABIs get one attempt, truncated at the largest buffer.
     */
    private static final int VA_LIST_SIZE = switch (System.getProperty("os.arch")) {
        case "amd64", "x86_64" -> 24;
        case "aarch64" -> 32;
        default -> 0;
    };
    private static final int ONE_TRY_LIMIT = 1 << 20;

    /** Routes libbpf's log here; called once by {@link Libbpf}. */
    static void install() {
        MemorySegment stub = libbpf_print_fn_t.allocate(LibbpfLog::print, Arena.global());
        libbpf_h.libbpf_set_print(stub);
    }

    /** Messages libbpf printed on this thread since {@link #capture()}; closing stops capturing. */
    public static final class Capture implements AutoCloseable {
        private final List<String> previous = CAPTURE.get();
        private final List<String> messages = new ArrayList<>();

        private Capture() {
            CAPTURE.set(messages);
        }

        /** The warnings and infos so far, in order, without libbpf's "libbpf: " prefix. */
        public List<String> messages() {
            return List.copyOf(messages);
        }

        /** Stops capturing; an enclosing capture on this thread also gets the messages. */
        @Override
        public void close() {
            if (previous != null) {
                previous.addAll(messages);
            }
            CAPTURE.set(previous);
        }
    }

    /** Starts capturing this thread's libbpf messages (they are still logged). */
    public static Capture capture() {
        return new Capture();
    }

    private static int print(int level, MemorySegment format, MemorySegment args) {
        try {
            boolean debug = level != libbpf_h.LIBBPF_WARN() && level != libbpf_h.LIBBPF_INFO();
            // Debug messages are many (every relocation) and never needed in an error: not captured.
            List<String> captured = debug ? null : CAPTURE.get();
            boolean log = level == libbpf_h.LIBBPF_WARN() ? LOG.isWarnEnabled()
                    : level == libbpf_h.LIBBPF_INFO() ? LOG.isInfoEnabled() : LOG.isDebugEnabled();
            if (!log && captured == null) {
                return 0;
            }
            String text = format(format, args);
            if (text.startsWith("libbpf: ")) {
                text = text.substring("libbpf: ".length());
            }
            text = text.stripTrailing();
            if (captured != null) {
                captured.add(text);
            }
            if (level == libbpf_h.LIBBPF_WARN()) {
                LOG.warn(text);
            } else if (level == libbpf_h.LIBBPF_INFO()) {
                LOG.info(text);
            } else {
                LOG.debug(text);
            }
        } catch (Throwable t) {
            // An exception must not unwind into libbpf's C frames: that would crash the JVM.
            try {
                LOG.error("could not format a libbpf message", t);
            } catch (Throwable ignored) {
                // nothing left to do
            }
        }
        return 0;
    }

    private static String format(MemorySegment format, MemorySegment args) {
        MemorySegment fmt = format.reinterpret(Long.MAX_VALUE);
        try (Arena a = Arena.ofConfined()) {
            if (VA_LIST_SIZE == 0) {
                MemorySegment buf = a.allocate(ONE_TRY_LIMIT);
                stdio_h.vsnprintf(buf, buf.byteSize(), fmt, args);
                return buf.getString(0);
            }
            MemorySegment copy = a.allocate(VA_LIST_SIZE, 8);
            copy.copyFrom(args.reinterpret(VA_LIST_SIZE));
            MemorySegment buf = a.allocate(FIRST_TRY);
            int n = stdio_h.vsnprintf(buf, buf.byteSize(), fmt, copy);
            if (n >= FIRST_TRY) {
                buf = a.allocate(n + 1L);
                stdio_h.vsnprintf(buf, buf.byteSize(), fmt, args);
            }
            return buf.getString(0);
        }
    }
}
