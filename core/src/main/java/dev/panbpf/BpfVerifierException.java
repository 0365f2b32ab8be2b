package dev.panbpf;

/**
 * BpfVerifierException reports a program the kernel's verifier rejected, with the verifier's log: the
 * instructions it walked and, at the end, why it refused. Only a failed load with a verifier log and an errno of
 * the verifier (EACCES, EINVAL, E2BIG) is one; a load that failed for another reason (EMFILE, ENOMEM, EPERM...)
 * is a plain {@link BpfException} naming that errno.
 */
public final class BpfVerifierException extends BpfException {
    /** Lines of the log's end quoted in the message; the whole log is in {@link #verifierLog()}. */
    private static final int TAIL_LINES = 12;

    /** The rejected program's name. */
    private final String program;
    /** The verifier's whole log. */
    private final String verifierLog;

    BpfVerifierException(String object, String program, int errno, String verifierLog) {
        super("load of program '" + program + "' in BPF object '" + object + "'", errno,
                "the verifier rejected it; the end of its log:\n" + tail(verifierLog)
                        + "\n(the whole log is in BpfVerifierException.verifierLog())");
        this.program = program;
        this.verifierLog = verifierLog;
    }

    /** {@return the name of the rejected program} */
    public String program() {
        return program;
    }

    /** {@return the verifier's log for the rejected program, as the kernel wrote it} */
    public String verifierLog() {
        return verifierLog;
    }

    private static String tail(String log) {
        String[] lines = log.strip().split("\n");
        int from = Math.max(0, lines.length - TAIL_LINES);
        StringBuilder sb = new StringBuilder();
        for (int i = from; i < lines.length; i++) {
            sb.append("  ").append(lines[i]).append(i + 1 < lines.length ? "\n" : "");
        }
        return sb.toString();
    }
}
