package dev.berth.cli;

import static dev.berth.cli.ServiceCommandsTest.assertUserError;
import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.api.v1.CreateNetworkRequest;
import dev.berth.api.v1.CreateServiceRequest;
import dev.berth.api.v1.NetworkAttachmentConfig;
import dev.berth.api.v1.PortConfig;
import dev.berth.api.v1.ServiceSpec;
import io.grpc.Status;
import org.junit.jupiter.api.Test;

/** --network (plain and name=,alias=), --publish (mesh, host, PROXY protocol) and network create --ingress. */
class NetworkFlagsTest extends InProcessClusterTest {

  @Test
  void networksWithAliasesAndEveryPublishFormReachTheSpec() {
    CliHarness.Result r = cli.run("service", "create", "--name", "web",
        "--network", "name=front,alias=www,alias=site", "--network", "back", "--network", "name=back,alias=api",
        "--publish", "8080:80", "--publish", "mode=host,published=9090,target=90",
        "--publish", "published=8443,target=443,proxy-protocol=true", "nginx");
    assertThat(r.err()).isEmpty();
    assertThat(r.exit()).isZero();
    ServiceSpec spec = server.received(CreateServiceRequest.class).get(0).getSpec();
    assertThat(spec.getTask().getNetworksList()).containsExactly(
        NetworkAttachmentConfig.newBuilder().setTarget("front").addAliases("www").addAliases("site").build(),
        // the later --network for the same network wins (so aliases can be given after the name)
        NetworkAttachmentConfig.newBuilder().setTarget("back").addAliases("api").build());
    assertThat(spec.getEndpoint().getPortsList()).containsExactly(
        PortConfig.newBuilder().setPublishedPort(8080).setTargetPort(80).build(),
        PortConfig.newBuilder().setPublishMode(PortConfig.PublishMode.HOST).setPublishedPort(9090)
            .setTargetPort(90).build(),
        PortConfig.newBuilder().setPublishedPort(8443).setTargetPort(443).setProxyProtocol(true).build());
  }

  @Test
  void badNetworkAndPublishValuesAreRefusedBeforeAnyRequest() {
    assertUserError(cli.run("service", "create", "--network", "alias=x", "nginx"),
        "berth: --network: 'alias=x' names no network (name=NETWORK)");
    assertUserError(cli.run("service", "create", "--network", "name=front,colour=red", "nginx"),
        "berth: --network: unknown key 'colour'");
    assertUserError(cli.run("service", "create", "--network", "", "nginx"),
        "berth: --network: network name must not be empty");
    assertUserError(cli.run("service", "create", "--publish", "published=80,target=8,proxy-protocol=yes", "nginx"),
        "berth: --publish: proxy-protocol 'yes' is not true or false");
    assertThat(server.received(CreateServiceRequest.class)).isEmpty();
  }

  @Test
  void theManagersRefusalNamingTheNetworkOrPortIsShownAsIs() {
    server.failNext("CreateService", Status.NOT_FOUND.withDescription(
        "spec.task.networks[0].target: network \"nope\" not found"));
    CliHarness.Result r = cli.run("service", "create", "--network", "nope", "nginx");
    assertThat(r.err()).contains("spec.task.networks[0].target: network \"nope\" not found");
    assertThat(r.exit()).isNotZero();
    server.failNext("CreateService", Status.FAILED_PRECONDITION.withDescription(
        "spec.endpoint.ports[0].published_port: 8080/tcp is already published by service \"web\" (ingress mode)"));
    r = cli.run("service", "create", "--publish", "8080:80", "nginx");
    assertThat(r.err()).contains("8080/tcp is already published by service \"web\"");
    assertThat(r.exit()).isNotZero();
  }

  @Test
  void networkCreateIngress() {
    assertThat(cli.run("network", "create", "--ingress", "mesh").exit()).isZero();
    assertThat(server.received(CreateNetworkRequest.class).get(0).getSpec().getIngress()).isTrue();
  }
}
