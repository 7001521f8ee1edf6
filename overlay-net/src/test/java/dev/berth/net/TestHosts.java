package dev.berth.net;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/**
 * Test "hosts": network namespaces joined by veth pairs to an underlay bridge that lives
 * in a "switch" namespace of its own, plus an "outside" namespace on the same underlay
 * (192.0.2.100) for gateway tests. Nothing is created in the test JVM's own namespace, so
 * deleting the namespaces (close) removes every device, FDB entry and iptables chain.
 */
public final class TestHosts implements AutoCloseable {
  public static final String OUTSIDE_IP = "192.0.2.100";
  private final String prefix = "bt" + Integer.toHexString(ThreadLocalRandom.current().nextInt(0x10000, 0xfffff));
  private final List<String> namespaces = Collections.synchronizedList(new ArrayList<>());
  private final String sw;
  public final String outside;

  /** Whether this machine can run the tests: root, iproute2, netns support. */
  public static String unsupportedReason() {
    if (!"root".equals(System.getProperty("user.name"))) {
      return "needs root for network namespaces";
    }
    for (String tool : List.of("/usr/sbin/ip", "/usr/sbin/bridge")) {
      if (!Files.isExecutable(Path.of(tool)) && !Files.isExecutable(Path.of(tool.replace("/usr/sbin", "/sbin")))) {
        return "iproute2 missing: " + tool;
      }
    }
    try {
      String ns = "btprobe" + ProcessHandle.current().pid();
      if (run("ip", "netns", "add", ns).code != 0) {
        return "cannot create network namespaces";
      }
      run("ip", "netns", "del", ns);
    } catch (IOException e) {
      return "cannot run ip: " + e.getMessage();
    }
    return null;
  }

  public TestHosts() throws IOException {
    sw = addNamespace("sw");
    check(run("ip", "-n", sw, "link", "add", "ul", "type", "bridge"));
    check(run("ip", "-n", sw, "link", "set", "ul", "up"));
    outside = addHost("ext", 100);
  }

  /** A test host on the underlay at 192.0.2.N, with its underlay device "u0". */
  public String addHost(String role, int n) throws IOException {
    String ns = addNamespace(role);
    String port = "p" + n;
    check(run("ip", "-n", sw, "link", "add", port, "type", "veth", "peer", "name", "u0", "netns", ns));
    check(run("ip", "-n", sw, "link", "set", port, "master", "ul", "up"));
    check(run("ip", "-n", ns, "addr", "add", "192.0.2." + n + "/24", "dev", "u0"));
    check(run("ip", "-n", ns, "link", "set", "u0", "up"));
    return ns;
  }

  /** A bare namespace (a "container"): lo up, nothing else. */
  public String addNamespace(String role) throws IOException {
    String ns = prefix + "-" + role;
    check(run("ip", "netns", "add", ns));
    namespaces.add(ns);
    check(run("ip", "-n", ns, "link", "set", "lo", "up"));
    return ns;
  }

  public void deleteNamespace(String ns) throws IOException {
    run("ip", "netns", "del", ns);
    namespaces.remove(ns);
  }

  /** Runs a command inside a namespace. */
  public static Result exec(String ns, String... cmd) throws IOException {
    List<String> c = new ArrayList<>(List.of("ip", "netns", "exec", ns));
    c.addAll(List.of(cmd));
    return run(c.toArray(String[]::new));
  }

  /** The MAC Berth derives from an overlay address: 02:42 and the address's four octets. */
  public static String mac(String ip) {
    String[] o = ip.split("\\.");
    return String.format("02:42:%02x:%02x:%02x:%02x", Integer.parseInt(o[0]), Integer.parseInt(o[1]),
        Integer.parseInt(o[2]), Integer.parseInt(o[3]));
  }

  public static boolean ping(String ns, String ip) throws IOException {
    return exec(ns, "ping", "-n", "-q", "-c", "2", "-i", "0.2", "-W", "2", ip).code == 0;
  }

  public static Result run(String... cmd) throws IOException {
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    try {
      if (!p.waitFor(60, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        throw new IOException("timed out: " + String.join(" ", cmd));
      }
    } catch (InterruptedException e) {
      p.destroyForcibly();
      Thread.currentThread().interrupt();
      throw new IOException(e);
    }
    return new Result(p.exitValue(), new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
  }

  public static Result check(Result r) throws IOException {
    if (r.code != 0) {
      throw new IOException("command failed (" + r.code + "): " + r.out);
    }
    return r;
  }

  public record Result(int code, String out) {}

  @Override
  public void close() {
    for (String ns : List.copyOf(namespaces)) {
      try {
        run("ip", "netns", "del", ns);
      } catch (IOException e) {
        System.err.println("could not delete netns " + ns + ": " + e.getMessage());
      }
    }
    namespaces.clear();
  }
}
