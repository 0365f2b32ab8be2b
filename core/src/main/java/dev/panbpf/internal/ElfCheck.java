package dev.panbpf.internal;

import dev.panbpf.BpfException;

import java.nio.ByteOrder;

/**
 * ElfCheck looks at the first bytes of a would-be BPF object before libbpf does, to say precisely what is wrong
 * with a file that is not one (libbpf only reports a format error).
 *
 * <pre>
 * | 0x7f 'E' 'L' 'F' | class (2 = 64-bit) | data (1 = little, 2 = big endian) | ... | e_machine u16 at 18 |
 * </pre>
 */
public final class ElfCheck {
    private ElfCheck() { }

    /** Bytes needed by {@link #check}. */
    public static final int HEADER_BYTES = 20;

    private static final int EI_CLASS = 4;
    private static final int EI_DATA = 5;
    private static final int ELFCLASS64 = 2;
    private static final int ELFDATA2LSB = 1;
    private static final int E_MACHINE = 18;
    private static final int EM_BPF = 247;

    /** Throws a {@link BpfException} naming the problem when {@code head} does not start a BPF ELF object. */
    public static void check(byte[] head, int length, String what) {
        if (length < 4 || head[0] != 0x7f || head[1] != 'E' || head[2] != 'L' || head[3] != 'F') {
            throw new BpfException(what + " is not an ELF file (" + (length == 0 ? "it is empty" : "no ELF magic")
                    + "); pass a BPF object compiled with clang -target bpf -c prog.bpf.c -o prog.bpf.o");
        }
        if (length < HEADER_BYTES) {
            throw new BpfException(what + " is a truncated ELF file (" + length + " bytes); rebuild it");
        }
        boolean little = head[EI_DATA] == ELFDATA2LSB;
        int machine = little ? (head[E_MACHINE] & 0xff) | (head[E_MACHINE + 1] & 0xff) << 8
                : (head[E_MACHINE] & 0xff) << 8 | (head[E_MACHINE + 1] & 0xff);
        if (machine != EM_BPF) {
            throw new BpfException(what + " is an ELF file for machine " + machine + " (x86-64 is 62, aarch64 183),"
                    + " not a BPF object (machine 247); compile the program with clang -target bpf");
        }
        if (head[EI_CLASS] != ELFCLASS64) {
            throw new BpfException(what + " is a 32-bit ELF file; BPF objects are 64-bit, compile with -target bpf");
        }
        if (little != (ByteOrder.nativeOrder() == ByteOrder.LITTLE_ENDIAN)) {
            throw new BpfException(what + " is a " + (little ? "little" : "big") + "-endian BPF object but this "
                    + "machine is the other way round; compile with -target bpf (host order)");
        }
    }
}
