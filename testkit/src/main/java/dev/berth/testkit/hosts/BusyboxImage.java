package dev.berth.testkit.hosts;

import dev.berth.api.v1.ContainerSpec;
import dev.berth.api.v1.ReplicatedService;
import dev.berth.api.v1.ServiceSpec;
import dev.berth.api.v1.TaskSpec;
import dev.berth.testhosts.TestHosts;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A real OCI image of busybox-static, built with umoci (the same one {@code bin/demo} builds): its
 * command writes "hello from HOSTNAME" to /www/index.html and serves it with busybox httpd on port
 * 80, so a service of it is a real web server. Tagged {@link #TAG}; import it with the repository
 * name {@link #NAME}.
 *
 * <p>Thread model: call from one thread. Errors: a missing tool or failing umoci step is an
 * {@link IOException} with the tool's output.
 */
public final class BusyboxImage {
  public static final String NAME = "berth-test/busybox";
  public static final String TAG = "1";
  public static final String REFERENCE = NAME + ":" + TAG;
  /** The applets linked in the image, enough for a web server and for poking around with exec. */
  private static final List<String> APPLETS = List.of("sh", "echo", "hostname", "sleep", "cat", "ls", "ps",
      "httpd", "wget", "ip", "nslookup");

  private BusyboxImage() {
  }

  /** A replicated service of this image (an httpd on port 80 per task). */
  public static ServiceSpec service(String name, long replicas) {
    return ServiceSpec.newBuilder().setName(name).setReplicated(ReplicatedService.newBuilder().setReplicas(replicas))
        .setTask(TaskSpec.newBuilder().setContainer(ContainerSpec.newBuilder().setImage(REFERENCE))).build();
  }

  /** Why this machine cannot build the image, or null. */
  public static String unsupportedReason() {
    for (String tool : List.of("/usr/bin/umoci", "/bin/busybox")) {
      if (!Files.isExecutable(Path.of(tool))) {
        return tool + " missing (apt-get install umoci busybox-static)";
      }
    }
    return null;
  }

  /** Builds the image as an OCI image-layout tar at {@code dir/busybox.tar} (work files under {@code dir}). */
  public static Path build(Path dir) throws IOException {
    Path layout = dir.resolve("layout");
    Path bundle = dir.resolve("bundle");
    String l = layout.toString();
    umoci("init", "--layout", l);
    umoci("new", "--image", l + ":base");
    umoci("unpack", "--image", l + ":base", bundle.toString());
    Path rootfs = bundle.resolve("rootfs");
    Files.createDirectories(rootfs.resolve("bin"));
    Files.createDirectories(rootfs.resolve("www"));
    Files.copy(Path.of("/bin/busybox"), rootfs.resolve("bin/busybox"));
    for (String applet : APPLETS) {
      Files.createSymbolicLink(rootfs.resolve("bin").resolve(applet), Path.of("busybox"));
    }
    umoci("repack", "--image", l + ":base", bundle.toString());
    umoci("config", "--image", l + ":base", "--tag", TAG, "--config.env", "PATH=/bin", "--os", "linux",
        "--architecture", "amd64", "--config.cmd", "sh", "--config.cmd", "-c", "--config.cmd",
        "echo \"hello from $(hostname)\" > /www/index.html; exec httpd -f -p 80 -h /www");
    Path tar = dir.resolve("busybox.tar");
    TestHosts.check(TestHosts.run("tar", "-C", l, "-cf", tar.toString(), "."));
    TestHosts.check(TestHosts.run("rm", "-rf", bundle.toString(), l));
    return tar;
  }

  private static void umoci(String... args) throws IOException {
    List<String> cmd = new ArrayList<>(List.of("umoci"));
    cmd.addAll(List.of(args));
    TestHosts.check(TestHosts.run(cmd.toArray(String[]::new)));
  }
}
