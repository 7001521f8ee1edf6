package dev.berth.agent.net;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.api.v1.NetworkAttachment;
import dev.berth.api.v1.Task;
import org.junit.jupiter.api.Test;

/** The iproute2 output the agent reads, and the files it gives containers. */
class ParsingTest {
    @Test
    void underlayDeviceIsTheOneHoldingTheAddress() {
        String out = "1: lo    inet 127.0.0.1/8 scope host lo\\       valid_lft forever preferred_lft forever\n"
                + "2: u0    inet 192.0.2.1/24 scope global u0\\       valid_lft forever preferred_lft forever\n"
                + "3: bg1    inet 192.0.2.10/16 scope global bg1\\       valid_lft forever preferred_lft forever\n";
        assertThat(Underlay.deviceOf(out, "192.0.2.1")).isEqualTo("u0");
        assertThatThrownBy(() -> Underlay.deviceOf(out, "192.0.2.2")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("192.0.2.2");
        assertThat(Underlay.mtuOf("2: u0@if9: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 9000 qdisc noqueue state UP"))
                .isEqualTo(9000);
    }

    @Test
    void gatewayAddressIsReadFromTheContainersNamespace() {
        assertThat(Netns.parseAddress("7: eth1    inet 172.18.0.2/16 scope global eth1\\       valid_lft forever"))
                .contains("172.18.0.2/16");
        assertThat(Netns.parseAddress("")).isEmpty();
    }

    @Test
    void containerFilesNameTheNodesDnsAndTheFirstOverlayAddress() {
        Task t = Task.newBuilder().addNetworks(NetworkAttachment.newBuilder().setAddress("10.1.0.5/24"))
                .addNetworks(NetworkAttachment.newBuilder().setAddress("10.0.0.5/24")).build();
        var files = ContainerFiles.of("172.18.0.1", "web-1", t);
        assertThat(files.get("/etc/resolv.conf")).startsWith("nameserver 172.18.0.1\n");
        assertThat(files.get("/etc/hosts")).contains("10.1.0.5\tweb-1\n").doesNotContain("10.0.0.5");
    }
}
