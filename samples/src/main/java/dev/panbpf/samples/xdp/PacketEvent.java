package dev.panbpf.samples.xdp;

import dev.panbpf.event.Unsigned;
import dev.panbpf.samples.net.Ipv4;

/**
 * PacketEvent is {@code struct packet_event} of {@code sample_xdp_events.bpf.c}: one received IPv4 packet.
 *
 * @param srcIp      source address, host byte order
 * @param destIp     destination address, host byte order
 * @param packetSize bytes received, Ethernet header included
 */
public record PacketEvent(@Unsigned int srcIp, @Unsigned int destIp, @Unsigned int packetSize) {
    @Override
    public String toString() {
        return String.format("%-15s -> %-15s %5d bytes", Ipv4.text(srcIp), Ipv4.text(destIp), packetSize);
    }
}
