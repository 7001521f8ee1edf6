package dev.berth.manager.image;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.berth.api.v1.ClusterServiceGrpc;
import dev.berth.api.v1.ContainerSpec;
import dev.berth.api.v1.CreateServiceRequest;
import dev.berth.api.v1.GetRequest;
import dev.berth.api.v1.ListRequest;
import dev.berth.api.v1.Platform;
import dev.berth.api.v1.Service;
import dev.berth.api.v1.ReplicatedService;
import dev.berth.api.v1.ServiceSpec;
import dev.berth.api.v1.TaskSpec;
import dev.berth.api.v1.UpdateServiceRequest;
import dev.berth.manager.ManagerConfig;
import dev.berth.manager.ManagerServer;
import dev.berth.registry.TestImages;
import dev.berth.registry.TestRegistry;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.NettyChannelBuilder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A real manager pinning images against real registries (Debian's docker-registry, one anonymous, one behind
 * htpasswd): the tag becomes the digest skopeo reports and the platform fills the placement; a missing image,
 * a down registry or missing credentials fail the create with the image named and nothing stored;
 * {@code no_resolve_image} keeps a spec unpinned; registry credentials never come back from a read, yet
 * survive a read-modify-write update.
 */
class ImagePinningTest {
    private static Path work;
    private static TestRegistry open;
    private static TestRegistry locked;
    private static ManagerServer server;
    private static ManagedChannel channel;
    private static ClusterServiceGrpc.ClusterServiceBlockingStub api;

    @BeforeAll
    static void start() throws Exception {
        TestRegistry.requireTools("docker-registry", "skopeo", "umoci", "busybox");
        work = Files.createTempDirectory("berth-pin");
        open = TestRegistry.start();
        locked = TestRegistry.start("dave", "hunter2");
        TestImages.busybox(work.resolve("layout"));
        open.push(work.resolve("layout"), "1", "busybox:1", null, null);
        open.push(work.resolve("layout"), "2", "busybox:2", null, null);
        locked.push(work.resolve("layout"), "1", "team/busybox:1", "dave", "hunter2");
        int apiPort = TestRegistry.freePort();
        server = new ManagerServer(ManagerConfig.defaults(work.resolve("manager"), "127.0.0.1", apiPort)
                .withPorts(apiPort, TestRegistry.freePort(), -1).withRoomyRaft(true), Clock.systemUTC())
                .resolveImagesWith(ImagePinner.using(Set.of(), Clock.systemUTC()));
        server.init();
        server.start();
        await().atMost(Duration.ofSeconds(60)).until(() -> server.proposer() != null && server.proposer().isLeader()
                && server.store().read(v -> v.cluster().isPresent()));
        channel = NettyChannelBuilder.forTarget("127.0.0.1:" + apiPort).usePlaintext().build();
        api = ClusterServiceGrpc.newBlockingStub(channel).withDeadlineAfter(5, java.util.concurrent.TimeUnit.MINUTES);
    }

    @AfterAll
    static void stop() throws Exception {
        if (channel != null) {
            channel.shutdownNow();
        }
        if (server != null) {
            server.close();
        }
        for (TestRegistry r : new TestRegistry[] {open, locked}) {
            if (r != null) {
                r.close();
            }
        }
        if (work != null) {
            try (var s = Files.walk(work)) {
                for (Path p : s.sorted(java.util.Comparator.reverseOrder()).toList()) {
                    Files.delete(p);
                }
            }
        }
    }

    private static ServiceSpec spec(String name, String image, String auth) {
        return ServiceSpec.newBuilder().setName(name).setTask(TaskSpec.newBuilder().setContainer(
                ContainerSpec.newBuilder().setImage(image).setRegistryAuth(auth))).build();
    }

    private static Service create(ServiceSpec spec, boolean noResolve) {
        return api.createService(CreateServiceRequest.newBuilder().setSpec(spec).setNoResolveImage(noResolve)
                .build()).getService();
    }

    private static Service stored(String name) {
        return server.store().read(v -> v.serviceByName(name)).orElseThrow();
    }

    private static String skopeoDigest(String ref, String... creds) throws Exception {
        List<String> cmd = new java.util.ArrayList<>(List.of("skopeo", "inspect", "--tls-verify=false"));
        cmd.addAll(List.of(creds));
        cmd.addAll(List.of("--format", "{{.Digest}}", "docker://" + ref));
        return TestRegistry.run(cmd).trim();
    }

    private static int serviceCount() {
        return server.store().read(v -> v.services().size());
    }

    @Test
    void createPinsTheTagAndFillsPlatformsAndAnImageUpdateRepins() throws Exception {
        String ref = open.host() + "/busybox:1";
        Service s = create(spec("pinned", ref, ""), false);
        ContainerSpec c = s.getSpec().getTask().getContainer();
        assertThat(c.getImage()).isEqualTo(ref);
        assertThat(c.getImageDigest()).isEqualTo(skopeoDigest(ref));
        assertThat(s.getSpec().getTask().getPlacement().getPlatformsList())
                .containsExactly(Platform.newBuilder().setOs("linux").setArchitecture("amd64").build());

        // Unrelated update: the pin stays; new image with the digest cleared (as the CLI sends it): re-pinned.
        ServiceSpec.Builder same = s.getSpec().toBuilder();
        same.getTaskBuilder().getContainerBuilder().addEnv("A=1");
        Service kept = api.updateService(UpdateServiceRequest.newBuilder().setService("pinned").setSpec(same).build())
                .getService();
        assertThat(kept.getSpec().getTask().getContainer().getImageDigest()).isEqualTo(c.getImageDigest());
        ServiceSpec.Builder v2 = kept.getSpec().toBuilder();
        v2.getTaskBuilder().getContainerBuilder().setImage(open.host() + "/busybox:2").clearImageDigest();
        Service moved = api.updateService(UpdateServiceRequest.newBuilder().setService("pinned").setSpec(v2).build())
                .getService();
        assertThat(moved.getSpec().getTask().getContainer().getImageDigest())
                .isEqualTo(skopeoDigest(open.host() + "/busybox:2")).isNotEqualTo(c.getImageDigest());
    }

    @Test
    void unresolvableImagesFailTheCreateWithTheImageNamedAndStoreNothing() throws Exception {
        int before = serviceCount();
        String missing = open.host() + "/nope:1";
        assertThatThrownBy(() -> create(spec("missing", missing, ""), false))
                .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
                    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
                    assertThat(e.getStatus().getDescription()).contains("\"" + missing + "\"").contains("not found")
                            .contains("--no-resolve-image");
                });
        String dead = "127.0.0.1:" + TestRegistry.freePort() + "/busybox:1";
        assertThatThrownBy(() -> create(spec("down", dead, ""), false))
                .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
                    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE);
                    assertThat(e.getStatus().getDescription()).contains("\"" + dead + "\"").contains("unreachable");
                });
        assertThat(serviceCount()).isEqualTo(before);

        // Declined resolution: stored as given, for the agents to resolve (e.g. an image imported on the nodes).
        Service local = create(spec("local", "imported-only:1", ""), true);
        assertThat(local.getSpec().getTask().getContainer().getImageDigest()).isEmpty();
        assertThat(local.getSpec().getTask().getPlacement().getPlatformsList()).isEmpty();
        // Updates that keep the image (scale, env) need no flag and leave it unpinned: nothing to resolve.
        ServiceSpec.Builder scaled = local.getSpec().toBuilder().setReplicated(ReplicatedService.newBuilder().setReplicas(3));
        Service after = api.updateService(UpdateServiceRequest.newBuilder().setService("local").setSpec(scaled).build())
                .getService();
        assertThat(after.getSpec().getReplicated().getReplicas()).isEqualTo(3);
        assertThat(after.getSpec().getTask().getContainer().getImageDigest()).isEmpty();
        // A new image is resolved again: an unknown one fails the update and leaves the service as it was.
        ServiceSpec.Builder moved = after.getSpec().toBuilder();
        moved.getTaskBuilder().getContainerBuilder().setImage(missing);
        assertThatThrownBy(() -> api.updateService(UpdateServiceRequest.newBuilder().setService("local")
                .setSpec(moved).build())).isInstanceOf(StatusRuntimeException.class)
                .hasMessageContaining(missing);
        assertThat(stored("local").getSpec().getTask().getContainer().getImage()).isEqualTo("imported-only:1");
    }

    @Test
    void registryCredentialsPinPrivateImagesAndNeverComeBackFromReads() throws Exception {
        String ref = locked.host() + "/team/busybox:1";
        assertThatThrownBy(() -> create(spec("anon", ref, ""), false))
                .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
                    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
                    assertThat(e.getStatus().getDescription()).contains(ref).contains("--with-registry-auth");
                });
        String auth = Base64.getEncoder().encodeToString("dave:hunter2".getBytes(StandardCharsets.UTF_8));
        Service s = create(spec("private", ref, auth), false);
        assertThat(s.getSpec().getTask().getContainer().getImageDigest())
                .isEqualTo(skopeoDigest(ref, "--creds", "dave:hunter2"));
        assertThat(s.toString()).doesNotContain(auth).doesNotContain("hunter2");
        assertThat(s.getSpec().getTask().getContainer().getRegistryAuth()).isEqualTo(RegistryAuthRedaction.REDACTED);
        Service read = api.getService(GetRequest.newBuilder().setId("private").build()).getService();
        assertThat(read.toString()).doesNotContain(auth);
        assertThat(api.listServices(ListRequest.getDefaultInstance()).toString()).doesNotContain(auth);
        // The store (what agents get) keeps the real credentials.
        assertThat(stored("private").getSpec().getTask().getContainer().getRegistryAuth()).isEqualTo(auth);

        // Read-modify-write with the redacted spec keeps them; the previous spec is redacted too.
        ServiceSpec.Builder edited = read.getSpec().toBuilder();
        edited.getTaskBuilder().getContainerBuilder().addEnv("B=2");
        Service updated = api.updateService(UpdateServiceRequest.newBuilder().setService("private").setSpec(edited)
                .build()).getService();
        assertThat(updated.toString()).doesNotContain(auth);
        assertThat(updated.getPreviousSpec().getTask().getContainer().getRegistryAuth())
                .isEqualTo(RegistryAuthRedaction.REDACTED);
        assertThat(stored("private").getSpec().getTask().getContainer().getRegistryAuth()).isEqualTo(auth);
        assertThat(stored("private").getSpec().getTask().getContainer().getEnvList()).contains("B=2");
    }
}
