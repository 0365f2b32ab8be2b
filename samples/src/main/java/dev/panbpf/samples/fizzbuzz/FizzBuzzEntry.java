package dev.panbpf.samples.fizzbuzz;

import dev.panbpf.event.Unsigned;
import dev.panbpf.samples.net.Ipv4;

/**
 * FizzBuzzEntry is {@code struct fizzbuzz_entry}, one value of the queue map: an address and its verdict.
 *
 * @param addr    the packet's IPv4 source address, host byte order
 * @param message the verdict, a C enum stored as its 4-byte value
 */
public record FizzBuzzEntry(@Unsigned int addr, Message message) {
    @Override
    public String toString() {
        return Ipv4.text(addr) + " " + message;
    }
}
