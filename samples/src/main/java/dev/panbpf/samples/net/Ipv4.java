package dev.panbpf.samples.net;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.UnknownHostException;

/**
 * Ipv4 converts addresses between the host-byte-order {@code int} the samples' BPF programs emit (10.0.0.1 is
 * 0x0a000001) and Java's address types, and builds the minimal Ethernet + IPv4 frames used for test runs.
 */
public final class Ipv4 {
    private Ipv4() { }

    /** Ethernet header length. */
    public static final int ETH_HLEN = 14;
    /** IPv4 header length without options. */
    public static final int IP_HLEN = 20;
    /** UDP header length. */
    public static final int UDP_HLEN = 8;
    /** 192.0.2.1, an address from TEST-NET-1 (RFC 5737), for packets that never leave a test run. */
    public static final int TEST_NET_1 = 192 << 24 | 2 << 8 | 1;

    /** Dotted-quad text of a host-order address. */
    public static String text(int addr) {
        return (addr >>> 24) + "." + ((addr >>> 16) & 0xff) + "." + ((addr >>> 8) & 0xff) + "." + (addr & 0xff);
    }

    /** The host-order int of an address. */
    public static int of(Inet4Address a) {
        byte[] b = a.getAddress();
        return (b[0] & 0xff) << 24 | (b[1] & 0xff) << 16 | (b[2] & 0xff) << 8 | (b[3] & 0xff);
    }

    /** The address of a host-order int. */
    public static Inet4Address address(int addr) {
        byte[] b = {(byte) (addr >>> 24), (byte) (addr >>> 16), (byte) (addr >>> 8), (byte) addr};
        try {
            return (Inet4Address) InetAddress.getByAddress(b);
        } catch (UnknownHostException e) {
            throw new AssertionError("four bytes are always an IPv4 address", e);
        }
    }

    /**
     * An Ethernet frame carrying an IPv4 header from {@code src} to {@code dst} and {@code payload} zero bytes of
     * UDP, as a receiving interface would see it (no checksums: XDP test runs do not check them).
     */
    public static byte[] udpFrame(int src, int dst, int payload) {
        int ipLen = IP_HLEN + UDP_HLEN + payload;
        byte[] f = new byte[ETH_HLEN + ipLen];
        f[12] = 0x08; // EtherType 0x0800: IPv4
        int ip = ETH_HLEN;
        f[ip] = 0x45; // version 4, 5 words of header
        f[ip + 2] = (byte) (ipLen >>> 8);
        f[ip + 3] = (byte) ipLen;
        f[ip + 8] = 64; // TTL
        f[ip + 9] = 17; // UDP
        putInt(f, ip + 12, src);
        putInt(f, ip + 16, dst);
        return f;
    }

    private static void putInt(byte[] b, int at, int v) {
        b[at] = (byte) (v >>> 24);
        b[at + 1] = (byte) (v >>> 16);
        b[at + 2] = (byte) (v >>> 8);
        b[at + 3] = (byte) v;
    }
}
