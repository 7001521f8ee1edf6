package dev.berth.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.api.v1.ContainerSpec;
import dev.berth.api.v1.CreateServiceRequest;
import dev.berth.api.v1.EndpointSpec;
import dev.berth.api.v1.GetRequest;
import dev.berth.api.v1.HealthCheck;
import dev.berth.api.v1.Meta;
import dev.berth.api.v1.NetworkAttachmentConfig;
import dev.berth.api.v1.Placement;
import dev.berth.api.v1.PlacementPreference;
import dev.berth.api.v1.PortConfig;
import dev.berth.api.v1.ReplicatedService;
import dev.berth.api.v1.ResourceRequirements;
import dev.berth.api.v1.Resources;
import dev.berth.api.v1.RestartPolicy;
import dev.berth.api.v1.SchedulingStrategy;
import dev.berth.api.v1.Service;
import dev.berth.api.v1.ServiceSpec;
import dev.berth.api.v1.TaskSpec;
import dev.berth.api.v1.UpdateConfig;
import dev.berth.api.v1.UpdateServiceRequest;
import org.junit.jupiter.api.Test;

/** service create / update / scale / rm against an in-process ClusterService: the exact requests sent. */
class ServiceCommandsTest extends InProcessClusterTest {

  @Test
  void createSendsEveryFlagInTheSpec() {
    CliHarness.Result r = cli.run("service", "create", "--name", "web", "--replicas", "3",
        "--env", "A=1", "-e", "B=two=2", "--publish", "8080:80",
        "--publish", "mode=host,published=9090,target=90,protocol=udp",
        "--reserve-cpu", "0.5", "--reserve-memory", "256M", "--limit-cpu", "1", "--limit-memory", "512M",
        "--constraint", "node.labels.zone==a", "--constraint", "node.role!=manager",
        "--placement-pref", "spread=node.labels.zone", "--replicas-max-per-node", "2",
        "--restart-condition", "on-failure", "--restart-delay", "5s", "--restart-max-attempts", "3",
        "--restart-window", "1m", "--update-parallelism", "2", "--update-delay", "10s",
        "--update-failure-action", "rollback", "--update-order", "start-first",
        "--health-cmd", "curl -f localhost", "--health-interval", "30s", "--health-retries", "4",
        "--health-timeout", "2s", "--health-start-period", "1m30s", "--stop-grace-period", "20s",
        "--stop-signal", "SIGINT", "--workdir", "/app", "--user", "app", "--hostname", "h1",
        "--label", "tier=front", "--network", "backend", "--task-history-limit", "7", "--strategy", "binpack",
        "registry:5000/web:1.2", "serve", "--port", "80");

    assertThat(r.err()).isEmpty();
    assertThat(r.exit()).isZero();
    CreateServiceRequest req = server.received(CreateServiceRequest.class).get(0);
    assertThat(req.getWrite().getRequestId()).isNotEmpty();
    ServiceSpec expected = ServiceSpec.newBuilder()
        .setName("web")
        .putLabels("tier", "front")
        .setReplicated(ReplicatedService.newBuilder().setReplicas(3))
        .setTask(TaskSpec.newBuilder()
            .setContainer(ContainerSpec.newBuilder()
                .setImage("registry:5000/web:1.2")
                .addArgs("serve").addArgs("--port").addArgs("80")
                .addEnv("A=1").addEnv("B=two=2")
                .setDir("/app").setUser("app").setHostname("h1")
                .setStopSignal("SIGINT").setStopGracePeriodMs(20_000)
                .setHealthcheck(HealthCheck.newBuilder().addTest("CMD-SHELL").addTest("curl -f localhost")
                    .setIntervalMs(30_000).setRetries(4).setTimeoutMs(2_000).setStartPeriodMs(90_000)))
            .setResources(ResourceRequirements.newBuilder()
                .setReservations(Resources.newBuilder().setNanoCpus(500_000_000).setMemoryBytes(256L << 20))
                .setLimits(Resources.newBuilder().setNanoCpus(1_000_000_000).setMemoryBytes(512L << 20)))
            .setRestartPolicy(RestartPolicy.newBuilder().setCondition(RestartPolicy.Condition.ON_FAILURE)
                .setDelayMs(5_000).setMaxAttempts(3).setWindowMs(60_000))
            .setPlacement(Placement.newBuilder()
                .addConstraints("node.labels.zone==a").addConstraints("node.role!=manager")
                .addPreferences(PlacementPreference.newBuilder().setSpreadDescriptor("node.labels.zone"))
                .setMaxReplicasPerNode(2))
            .addNetworks(NetworkAttachmentConfig.newBuilder().setTarget("backend")))
        .setEndpoint(EndpointSpec.newBuilder()
            .addPorts(PortConfig.newBuilder().setPublishedPort(8080).setTargetPort(80))
            .addPorts(PortConfig.newBuilder().setPublishMode(PortConfig.PublishMode.HOST)
                .setPublishedPort(9090).setTargetPort(90).setProtocol(dev.berth.api.v1.Protocol.UDP)))
        .setUpdate(UpdateConfig.newBuilder().setParallelism(2).setDelayMs(10_000)
            .setFailureAction(UpdateConfig.FailureAction.ROLLBACK).setOrder(UpdateConfig.Order.START_FIRST))
        .setTaskHistoryLimit(7)
        .setStrategy(SchedulingStrategy.BINPACK)
        .build();
    assertThat(req.getSpec()).isEqualTo(expected);
    assertThat(r.out()).isEqualTo(server.service("web").getMeta().getId() + "\n");
  }

  @Test
  void createDefaultsToOneReplicaAndGlobalModeHasNoReplicas() {
    assertThat(cli.run("service", "create", "--name", "a", "nginx").exit()).isZero();
    assertThat(cli.run("service", "create", "--name", "b", "--mode", "global", "nginx").exit()).isZero();
    var sent = server.received(CreateServiceRequest.class);
    assertThat(sent.get(0).getSpec().getReplicated().getReplicas()).isEqualTo(1);
    assertThat(sent.get(1).getSpec().hasGlobal()).isTrue();
    assertThat(sent.get(1).getSpec().hasReplicated()).isFalse();
    assertThat(sent.get(0).getWrite().getRequestId()).isNotEqualTo(sent.get(1).getWrite().getRequestId());
  }

  @Test
  void badFlagsAreRejectedBeforeAnythingIsSent() {
    assertUserError(cli.run("service", "create", "--replicas", "-1", "nginx"), "berth: --replicas: must be >= 0");
    assertUserError(cli.run("service", "create", "--reserve-memory", "12X", "nginx"),
        "berth: --reserve-memory: invalid size '12X'");
    assertUserError(cli.run("service", "create", "--limit-cpu", "-2", "nginx"),
        "berth: --limit-cpu: invalid CPU amount '-2': must be >= 0");
    assertUserError(cli.run("service", "create", "--restart-delay", "5 parsecs", "nginx"),
        "berth: --restart-delay: invalid duration '5 parsecs'");
    assertUserError(cli.run("service", "create", "--constraint", "zone=a", "nginx"), "berth: --constraint: 'zone=a'");
    assertUserError(cli.run("service", "create", "--publish", "80:99999", "nginx"), "berth: --publish: port '99999'");
    assertUserError(cli.run("service", "create", "--mode", "global", "--replicas", "2", "nginx"),
        "berth: --replicas: not allowed for a global service");
    assertUserError(cli.run("service", "create", "--restart-condition", "sometimes", "nginx"),
        "berth: --restart-condition: 'sometimes' is not one of any, on-failure, none");
    assertUserError(cli.run("service", "create", "--env", "=x", "nginx"), "berth: --env: '=x' is not KEY=VALUE");
    assertUserError(cli.run("service", "create", "--replicas", "many", "nginx"), "berth: --replicas: 'many'");
    assertUserError(cli.run("service", "create", ""), "berth: IMAGE: must not be empty");
    assertThat(server.received()).isEmpty();
  }

  @Test
  void updateChangesOnlyTheGivenFieldsAndSendsTheVersionRead() {
    seed("web", 42, ServiceSpec.newBuilder().setName("web")
        .setReplicated(ReplicatedService.newBuilder().setReplicas(2))
        .setTask(TaskSpec.newBuilder().setContainer(ContainerSpec.newBuilder()
            .setImage("web:1").setImageDigest("sha256:aa").addEnv("A=1").addEnv("B=2")))
        .putLabels("old", "x")
        .build());

    CliHarness.Result r = cli.run("service", "update", "--image", "web:2", "--env-add", "A=9", "--env-add", "C=3",
        "--env-rm", "B", "--label-rm", "old", "--label-add", "new=y", "--constraint-add", "node.labels.ssd==true",
        "--publish-add", "80:8080", "--limit-memory", "1G", "--force", "web");

    assertThat(r.err()).isEmpty();
    assertThat(r.exit()).isZero();
    assertThat(r.out()).isEqualTo("web\n");
    assertThat(server.received(GetRequest.class)).extracting(GetRequest::getId).containsExactly("web");
    UpdateServiceRequest req = server.received(UpdateServiceRequest.class).get(0);
    assertThat(req.getIfVersion()).isEqualTo(42);
    assertThat(req.getService()).isEqualTo("id-web");
    assertThat(req.getForce()).isTrue();
    assertThat(req.getRollback()).isFalse();
    ContainerSpec c = req.getSpec().getTask().getContainer();
    assertThat(c.getImage()).isEqualTo("web:2");
    assertThat(c.getImageDigest()).isEmpty();
    assertThat(c.getEnvList()).containsExactly("A=9", "C=3");
    assertThat(req.getSpec().getLabelsMap()).containsExactly(java.util.Map.entry("new", "y"));
    assertThat(req.getSpec().getTask().getPlacement().getConstraintsList()).containsExactly("node.labels.ssd==true");
    assertThat(req.getSpec().getEndpoint().getPortsList())
        .containsExactly(PortConfig.newBuilder().setPublishedPort(80).setTargetPort(8080).build());
    assertThat(req.getSpec().getTask().getResources().getLimits().getMemoryBytes()).isEqualTo(1L << 30);
    assertThat(req.getSpec().getReplicated().getReplicas()).isEqualTo(2);
  }

  @Test
  void updateWithExplicitIfVersionSendsIt() {
    seed("web", 42, ServiceSpec.newBuilder().setName("web")
        .setReplicated(ReplicatedService.newBuilder().setReplicas(2)).build());
    CliHarness.Result r = cli.run("service", "update", "--if-version", "41", "--replicas", "5", "web");
    assertThat(server.received(UpdateServiceRequest.class).get(0).getIfVersion()).isEqualTo(41);
    // The fake, like the cluster, refuses a stale version; the server's message is shown as is.
    assertUserError(r, "berth: if_version: service web is at version 42, not 41");
  }

  @Test
  void concurrentChangeBetweenReadAndWriteIsAClearError() {
    seed("web", 42, ServiceSpec.newBuilder().setName("web")
        .setReplicated(ReplicatedService.newBuilder().setReplicas(2)).build());
    server.failNext("UpdateService", io.grpc.Status.FAILED_PRECONDITION.withDescription("version mismatch"));
    CliHarness.Result r = cli.run("service", "update", "--replicas", "5", "web");
    assertUserError(r, "berth: service web changed since it was read at version 42 (version mismatch); "
        + "nothing was applied, run the command again");
  }

  @Test
  void rollbackRefusesSpecChanges() {
    seed("web", 3, ServiceSpec.newBuilder().setName("web").build());
    assertUserError(cli.run("service", "update", "--rollback", "--image", "x", "web"),
        "berth: --rollback: cannot be combined with changes to the spec");
    assertThat(cli.run("service", "update", "--rollback", "web").exit()).isZero();
    assertThat(server.received(UpdateServiceRequest.class)).singleElement()
        .satisfies(u -> assertThat(u.getRollback()).isTrue());
  }

  @Test
  void scaleUpdatesReplicasOfEachServiceWithItsVersion() {
    seed("web", 5, ServiceSpec.newBuilder().setName("web").setReplicated(ReplicatedService.newBuilder().setReplicas(1)).build());
    seed("api", 8, ServiceSpec.newBuilder().setName("api").setReplicated(ReplicatedService.newBuilder().setReplicas(1)).build());
    CliHarness.Result r = cli.run("service", "scale", "web=5", "api=2");
    assertThat(r.exit()).isZero();
    assertThat(r.out()).isEqualTo("web scaled to 5\napi scaled to 2\n");
    var sent = server.received(UpdateServiceRequest.class);
    assertThat(sent).extracting(u -> u.getSpec().getName(), u -> u.getSpec().getReplicated().getReplicas(),
            UpdateServiceRequest::getIfVersion)
        .containsExactly(org.assertj.core.groups.Tuple.tuple("web", 5L, 5L),
            org.assertj.core.groups.Tuple.tuple("api", 2L, 8L));
  }

  @Test
  void scaleReportsEachFailureAndCarriesOn() {
    seed("glob", 5, ServiceSpec.newBuilder().setName("glob")
        .setGlobal(dev.berth.api.v1.GlobalService.getDefaultInstance()).build());
    seed("web", 6, ServiceSpec.newBuilder().setName("web").setReplicated(ReplicatedService.newBuilder()).build());
    CliHarness.Result r = cli.run("service", "scale", "glob=3", "nope=1", "web=4");
    assertThat(r.exit()).isEqualTo(1);
    assertThat(r.err()).isEqualTo("berth: glob: scale applies to replicated services only\n"
        + "berth: service nope not found\n");
    assertThat(r.out()).isEqualTo("web scaled to 4\n");
    assertUserError(cli.run("service", "scale", "web=-1"), "berth: web=-1: replicas must be >= 0");
    assertUserError(cli.run("service", "scale", "web"), "berth: web: not SERVICE=REPLICAS");
  }

  @Test
  void rmRemovesEachServiceWithItsOwnRequestId() {
    seed("a", 1, ServiceSpec.newBuilder().setName("a").build());
    seed("b", 2, ServiceSpec.newBuilder().setName("b").build());
    CliHarness.Result r = cli.run("service", "rm", "a", "b");
    assertThat(r.exit()).isZero();
    assertThat(r.out()).isEqualTo("a\nb\n");
    var sent = server.received(dev.berth.api.v1.RemoveServiceRequest.class);
    assertThat(sent).extracting(dev.berth.api.v1.RemoveServiceRequest::getService).containsExactly("a", "b");
    assertThat(sent.get(0).getWrite().getRequestId()).isNotEqualTo(sent.get(1).getWrite().getRequestId());
  }

  private void seed(String name, long version, ServiceSpec spec) {
    server.putService(Service.newBuilder().setMeta(Meta.newBuilder().setId("id-" + name).setVersion(version))
        .setSpec(spec).build());
  }

  static void assertUserError(CliHarness.Result r, String messageStart) {
    assertThat(r.err()).startsWith(messageStart).endsWith("\n");
    assertThat(r.err().strip()).doesNotContain("\n");
    assertThat(r.exit()).isEqualTo(ExitCodes.USER_ERROR);
  }
}
