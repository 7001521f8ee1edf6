package dev.berth.cli.service;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.api.v1.PortConfig;
import dev.berth.api.v1.Protocol;
import dev.berth.cli.UserException;
import org.junit.jupiter.api.Test;

class PortSpecsTest {
  @Test
  void shortForms() {
    assertThat(PortSpecs.parse("-p", "8080:80"))
        .isEqualTo(PortConfig.newBuilder().setPublishedPort(8080).setTargetPort(80).build());
    assertThat(PortSpecs.parse("-p", "53:53/udp"))
        .isEqualTo(PortConfig.newBuilder().setPublishedPort(53).setTargetPort(53).setProtocol(Protocol.UDP).build());
    assertThat(PortSpecs.parse("-p", "80")).isEqualTo(PortConfig.newBuilder().setTargetPort(80).build());
  }

  @Test
  void longForm() {
    assertThat(PortSpecs.parse("--publish", "mode=host,published=8080,target=80,protocol=tcp,name=http"))
        .isEqualTo(PortConfig.newBuilder().setPublishMode(PortConfig.PublishMode.HOST)
            .setPublishedPort(8080).setTargetPort(80).setName("http").build());
  }

  @Test
  void errorsNameTheFlagAndValue() {
    assertThatThrownBy(() -> PortSpecs.parse("--publish", "1:2:3")).isInstanceOf(UserException.class)
        .hasMessage("--publish: '1:2:3' is not [PUBLISHED:]TARGET[/PROTOCOL]");
    assertThatThrownBy(() -> PortSpecs.parse("--publish", "80/sctp"))
        .hasMessage("--publish: protocol 'sctp' is not tcp or udp");
    assertThatThrownBy(() -> PortSpecs.parse("--publish", "0:80"))
        .hasMessage("--publish: port '0' in '0:80' must be 1..65535");
    assertThatThrownBy(() -> PortSpecs.parse("--publish", "mode=host,published=80"))
        .hasMessage("--publish: 'mode=host,published=80' has no target port");
    assertThatThrownBy(() -> PortSpecs.parse("--publish", "mode=bridge,target=80"))
        .hasMessage("--publish: mode 'bridge' is not ingress or host");
    assertThatThrownBy(() -> PortSpecs.parse("--publish", "colour=red,target=80"))
        .hasMessageStartingWith("--publish: unknown key 'colour'");
  }

  @Test
  void displayAndRemovalMatching() {
    PortConfig p = PortSpecs.parse("-p", "8080:80");
    assertThat(PortSpecs.format(p)).isEqualTo("*:8080->80/tcp");
    assertThat(PortSpecs.format(PortSpecs.parse("-p", "mode=host,published=53,target=53,protocol=udp")))
        .isEqualTo("host:53->53/udp");
    assertThat(PortSpecs.matches("--publish-rm", "8080", p)).isTrue();
    assertThat(PortSpecs.matches("--publish-rm", "8080/udp", p)).isFalse();
    assertThat(PortSpecs.matches("--publish-rm", "8080:80", p)).isTrue();
    assertThat(PortSpecs.matches("--publish-rm", "9090", p)).isFalse();
  }
}
