package dev.panbpf;

import dev.panbpf.bindings.errno_h;
import dev.panbpf.internal.Errno;
import dev.panbpf.internal.Libbpf;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * LibbpfFailure turns a failed libbpf call, its error number and the messages libbpf printed meanwhile into an
 * exception that says what to do: the verifier log for a rejected program, tracefs or privileges when those are
 * missing, and otherwise libbpf's own last words.
 */
final class LibbpfFailure {
    private LibbpfFailure() { }

    private static final String LOG_BEGIN = "-- BEGIN PROG LOAD LOG --";
    private static final String LOG_END = "-- END PROG LOAD LOG --";
    /** libbpf's private error numbers (LIBBPF_ERRNO__*) start here. */
    private static final int LIBBPF_ERRNO_BASE = 4000;
    private static final int SAID_LINES = 4;

    /** bpf_object__load failed with {@code errno}. */
    static BpfException load(String object, int errno, List<String> messages) {
        for (String m : messages) {
            int begin = m.indexOf(LOG_BEGIN);
            int end = m.lastIndexOf(LOG_END);
            if (begin >= 0 && end > begin) {
                return new BpfVerifierException(object, programOf(m), errno,
                        m.substring(begin + LOG_BEGIN.length(), end).strip());
            }
        }
        return failure("load of BPF object '" + object + "'", errno, null, messages);
    }

    /** Attaching {@code program} failed with {@code errno}. */
    static BpfException attach(BpfProgram program, String how, int errno, List<String> messages) {
        String section = program.section();
        String hint = null;
        if (errno == errno_h.EOPNOTSUPP()) {
            hint = "libbpf cannot attach section '" + section + "' by itself; XDP programs attach with "
                    + "attachXdp(interface), test programs run with testRun(...)";
        } else if (errno == errno_h.ENOENT() && isTracepoint(section)) {
            hint = tracefsMounted()
                    ? "the kernel has no tracepoint '" + section.substring(section.indexOf('/') + 1) + "'; the "
                    + "ones it has are listed in /sys/kernel/tracing/available_events"
                    : "tracefs is not mounted, so tracepoints cannot be found; mount it: "
                    + "mount -t tracefs nodev /sys/kernel/tracing";
        } else if (errno == errno_h.ENOENT() && section.startsWith("raw_tp")) {
            hint = "the kernel has no raw tracepoint '" + section.substring(section.indexOf('/') + 1) + "'";
        }
        return failure(how + " of program '" + program.name() + "'", errno, hint, messages);
    }

    /** bpf_object__open_* failed with {@code errno}. */
    static BpfException open(String what, int errno, List<String> messages) {
        return failure("open of " + what, errno, null, messages);
    }

    private static BpfException failure(String operation, int errno, String hint, List<String> messages) {
        String said = said(messages);
        if (errno >= LIBBPF_ERRNO_BASE) {
            return new BpfException(operation + " failed: " + Libbpf.strerror(-errno)
                    + (hint == null ? "" : ": " + hint) + said);
        }
        String general = Errno.defaultHint(errno);
        String h = hint != null ? hint : general.isEmpty() ? null : general.substring(2);
        if (h == null && said.isEmpty()) {
            return new BpfException(operation, errno, null);
        }
        return new BpfException(operation, errno, (h == null ? "see libbpf's messages" : h) + said);
    }

    /** The last warnings libbpf printed, quoted. */
    private static String said(List<String> messages) {
        if (messages.isEmpty()) {
            return "";
        }
        List<String> last = messages.subList(Math.max(0, messages.size() - SAID_LINES), messages.size());
        return "\n  libbpf said: " + String.join("\n  libbpf said: ", last);
    }

    private static String programOf(String message) {
        int q = message.indexOf("prog '");
        int e = q < 0 ? -1 : message.indexOf('\'', q + 6);
        return e < 0 ? "?" : message.substring(q + 6, e);
    }

    static boolean isTracepoint(String section) {
        return section.startsWith("tp/") || section.startsWith("tracepoint/");
    }

    static boolean tracefsMounted() {
        return Files.isDirectory(Path.of("/sys/kernel/tracing/events"))
                || Files.isDirectory(Path.of("/sys/kernel/debug/tracing/events"));
    }
}
