package dev.berth.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.api.v1.ContainerSpec;
import dev.berth.api.v1.CreateServiceRequest;
import dev.berth.api.v1.Meta;
import dev.berth.api.v1.Service;
import dev.berth.api.v1.ServiceSpec;
import dev.berth.api.v1.TaskSpec;
import dev.berth.api.v1.UpdateServiceRequest;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code --with-registry-auth} (credentials from BERTH_REGISTRY_USER/PASSWORD, else Docker's config.json for the
 * image's registry) and {@code --no-resolve-image}: what create and update send.
 */
class RegistryAuthFlagsTest extends InProcessClusterTest {
  @TempDir Path home;

  private static String b64(String s) {
    return Base64.getEncoder().encodeToString(s.getBytes(StandardCharsets.UTF_8));
  }

  @Test
  void environmentCredentialsWinAndGoIntoTheSpec() {
    cli.env.put("BERTH_REGISTRY_USER", "erin");
    cli.env.put("BERTH_REGISTRY_PASSWORD", "pw:with:colons");
    CliHarness.Result r = cli.run("service", "create", "--with-registry-auth", "--name", "web", "reg:5000/web:1");
    assertThat(r.err()).isEmpty();
    CreateServiceRequest req = server.received(CreateServiceRequest.class).get(0);
    assertThat(req.getSpec().getTask().getContainer().getRegistryAuth()).isEqualTo(b64("erin:pw:with:colons"));
    assertThat(req.getNoResolveImage()).isFalse();
  }

  @Test
  void dockerConfigAuthsAreLookedUpByTheImagesRegistry() throws Exception {
    Path cfg = home.resolve(".docker/config.json");
    Files.createDirectories(cfg.getParent());
    Files.writeString(cfg, """
        {"auths": {"other:5000": {"auth": "%s"},
                   "reg:5000": {"auth": "%s"},
                   "https://index.docker.io/v1/": {"auth": "%s"}}}
        """.formatted(b64("x:y"), b64("frank:secret"), b64("hub:user")));
    cli.env.put("HOME", home.toString());
    assertThat(cli.run("service", "create", "--with-registry-auth", "--name", "a", "reg:5000/team/web:1").err())
        .isEmpty();
    assertThat(cli.run("service", "create", "--with-registry-auth", "--name", "b", "busybox").err()).isEmpty();
    assertThat(server.received(CreateServiceRequest.class))
        .extracting(q -> q.getSpec().getTask().getContainer().getRegistryAuth())
        .containsExactly(b64("frank:secret"), b64("hub:user"));

    CliHarness.Result none = cli.run("service", "create", "--with-registry-auth", "elsewhere:443/web:1");
    ServiceCommandsTest.assertUserError(none, "berth: --with-registry-auth: no credentials for registry elsewhere:443");
    assertThat(none.err()).contains("BERTH_REGISTRY_USER").contains(cfg.toString());
  }

  @Test
  void noResolveImageAndUpdateWithoutTheFlagSendsBackWhatItRead() {
    assertThat(cli.run("service", "create", "--no-resolve-image", "--name", "local", "imported:1").err()).isEmpty();
    assertThat(server.received(CreateServiceRequest.class).get(0).getNoResolveImage()).isTrue();

    // Reads show the manager's placeholder; an update without the flag leaves it for the manager to restore.
    server.putService(Service.newBuilder().setMeta(Meta.newBuilder().setId("id-web").setVersion(3))
        .setSpec(ServiceSpec.newBuilder().setName("web").setTask(TaskSpec.newBuilder().setContainer(
            ContainerSpec.newBuilder().setImage("reg:5000/web:1").setRegistryAuth("<redacted>")))).build());
    assertThat(cli.run("service", "update", "--env-add", "A=1", "--no-resolve-image", "web").err()).isEmpty();
    UpdateServiceRequest plain = server.received(UpdateServiceRequest.class).get(0);
    assertThat(plain.getSpec().getTask().getContainer().getRegistryAuth()).isEqualTo("<redacted>");
    assertThat(plain.getNoResolveImage()).isTrue();

    cli.env.put("BERTH_REGISTRY_USER", "gina");
    cli.env.put("BERTH_REGISTRY_PASSWORD", "new");
    assertThat(cli.run("service", "update", "--with-registry-auth", "web").err()).isEmpty();
    UpdateServiceRequest fresh = server.received(UpdateServiceRequest.class).get(1);
    assertThat(fresh.getSpec().getTask().getContainer().getRegistryAuth()).isEqualTo(b64("gina:new"));
    assertThat(fresh.getNoResolveImage()).isFalse();
  }
}
