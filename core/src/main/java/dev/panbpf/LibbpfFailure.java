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

    /**
     * bpf_object__load failed with {@code errno}. A program whose load fails is loaded again with a verifier log,
     * so a log comes with any failure of a program load: only with the errors the verifier refuses with is it a
     * rejection. Otherwise (EMFILE when the kernel had no fd left for a verified program, ENOMEM, EPERM...) the
     * errno is the cause, and the log, which ends with the verifier's statistics either way, is left out.
     */
    static BpfException load(String object, int errno, List<String> messages) {
        String program = failedProgram(messages);
        for (String m : messages) {
            int begin = m.indexOf(LOG_BEGIN);
            int end = m.lastIndexOf(LOG_END);
            String log = begin >= 0 && end > begin ? m.substring(begin + LOG_BEGIN.length(), end).strip() : "";
            if (!log.isEmpty() && isRejection(errno)) {
                return new BpfVerifierException(object, programOf(m), errno, log);
            }
        }
        String map = program == null ? failedMap(messages) : null;
        String what = program != null ? "program '" + program + "' in " : map != null ? "map '" + map + "' of " : "";
        String hint = null;
        if (errno == errno_h.EPERM() && program != null) {
            // The kernel checks capabilities per program type; say which, not just "be root".
            hint = "program '" + program + "' was refused for lack of privilege: every program needs CAP_BPF, "
                    + "tracing programs (tracepoints, raw tracepoints) CAP_PERFMON too, and network programs "
                    + "(XDP, tc, socket filters) CAP_NET_ADMIN too. Run as root, or grant them as ambient "
                    + "capabilities, e.g. setpriv --inh-caps=+bpf,+perfmon,+net_admin "
                    + "--ambient-caps=+bpf,+perfmon,+net_admin java ...";
        }
        return failure("load of " + what + "BPF object '" + object + "'", errno, hint,
                messages.stream().filter(m -> !m.contains(LOG_BEGIN)).toList());
    }

    /**
     * The errors of a verifier rejection: EACCES (unsafe code), EINVAL (invalid code) and E2BIG (over the
     * verifier's complexity limit, "BPF program is too large").
     */
    private static boolean isRejection(int errno) {
        return errno == errno_h.EACCES() || errno == errno_h.EINVAL() || errno == errno_h.E2BIG();
    }

    /** The map libbpf said it failed to create ("map 'x': failed to create: ..."), or null. */
    private static String failedMap(List<String> messages) {
        for (String m : messages) {
            int q = m.indexOf("map '");
            int e = q < 0 ? -1 : m.indexOf("': failed to create", q + 5);
            if (e > 0) {
                return m.substring(q + 5, e);
            }
        }
        return null;
    }

    /** The program libbpf said failed to load ("prog 'x': BPF program load failed: ..."), or null. */
    private static String failedProgram(List<String> messages) {
        for (String m : messages) {
            if (m.contains("BPF program load failed") || m.contains("failed to load")) {
                String p = programOf(m);
                if (!p.equals("?")) {
                    return p;
                }
            }
        }
        return null;
    }

    /** Attaching {@code program} failed with {@code errno}. */
    static BpfException attach(BpfProgram program, String how, int errno, List<String> messages) {
        String section = program.section();
        String hint = null;
        if (errno == errno_h.EOPNOTSUPP()) {
            hint = "libbpf cannot attach section '" + section + "' by itself; XDP programs attach with "
                    + "attachXdp(interface), test programs run with testRun(...)";
        } else if ((errno == errno_h.EACCES() || errno == errno_h.ENOENT()) && isTracepoint(section)
                && tracefsUnreadable()) {
            // Mounted, but mode 700 and owned by root: libbpf cannot read the tracepoint's id, whatever the caps.
            hint = "tracefs is mounted but this user cannot read it (/sys/kernel/tracing is root's, mode 700), "
                    + "so the id of tracepoint '" + section.substring(section.indexOf('/') + 1) + "' cannot be "
                    + "read; run as root, grant CAP_DAC_READ_SEARCH as well, or let a group read it: "
                    + "mount -o remount,gid=GROUP,mode=0750 /sys/kernel/tracing";
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

    /**
     * Whether a tracefs is mounted (per /proc/self/mounts, which anyone may read) that this process cannot list.
     * Listing, not access(2): access checks the real uid and ignores capabilities such as CAP_DAC_READ_SEARCH.
     */
    static boolean tracefsUnreadable() {
        for (String dir : List.of("/sys/kernel/tracing", "/sys/kernel/debug/tracing")) {
            if (tracefsMountedAt(dir)) {
                try (var events = Files.newDirectoryStream(Path.of(dir, "events"))) {
                    events.iterator().hasNext();
                } catch (java.nio.file.AccessDeniedException e) {
                    return true;
                } catch (java.io.IOException | RuntimeException e) {
                    // not a permission problem: the other hints apply
                }
            }
        }
        return false;
    }

    private static boolean tracefsMountedAt(String dir) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/mounts"))) {
                String[] f = line.split(" ");
                if (f.length > 2 && f[1].equals(dir) && f[2].equals("tracefs")) {
                    return true;
                }
            }
        } catch (java.io.IOException e) {
            return false;
        }
        return false;
    }

    static boolean tracefsMounted() {
        return Files.isDirectory(Path.of("/sys/kernel/tracing/events"))
                || Files.isDirectory(Path.of("/sys/kernel/debug/tracing/events"));
    }
}
