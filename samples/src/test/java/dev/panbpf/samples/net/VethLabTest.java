package dev.panbpf.samples.net;

import dev.panbpf.testing.Kernel;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class VethLabTest {
    @BeforeAll
    static void needs() {
        Kernel.requireRoot();
        Kernel.require(new dev.panbpf.samples.Host().onPath("ip"), "the ip command (apt-get install iproute2)");
    }

    @Test
    void datagramsSentFromThePeerNamespaceArriveOnTheHostEnd() throws Exception {
        try (VethLab lab = VethLab.create()) {
            assertTrue(Files.exists(Path.of("/run/netns", lab.namespace())));
            assertTrue(Files.exists(Path.of("/sys/class/net", lab.hostEnd())));
            assertEquals(lab.hostAddress() + 1, lab.peerAddress());
            assertEquals(3, lab.sendToHost(List.of(10, 100, 1000)));
        }
    }

    @Test
    void closeRemovesTheNamespaceAndBothEnds() {
        VethLab lab = VethLab.create();
        String ns = lab.namespace();
        String host = lab.hostEnd();
        lab.close();
        lab.close(); // idempotent
        assertFalse(Files.exists(Path.of("/run/netns", ns)));
        assertFalse(Files.exists(Path.of("/sys/class/net", host)));
        assertFalse(Ip.run("netns", "list").contains(ns));
    }

    @Test
    void twoLabsGetDifferentNamesAndSubnets() {
        try (VethLab a = VethLab.create(); VethLab b = VethLab.create()) {
            assertTrue(!a.namespace().equals(b.namespace()) && !a.hostEnd().equals(b.hostEnd()));
            assertTrue((a.hostAddress() & ~3) != (b.hostAddress() & ~3));
        }
    }
}
