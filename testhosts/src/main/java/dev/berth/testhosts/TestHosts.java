package dev.berth.testhosts;

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
 * Test "hosts": network namespaces joined by veth pairs to an underlay bridge that lives in a
 * "switch" namespace of its own. Two shapes:
 *
 * <ul>
 *   <li>{@link #TestHosts()}: an isolated underlay 192.0.2.0/24 plus an "outside" namespace on it
 *       ({@value #OUTSIDE_IP}) for gateway tests. Nothing is created in the test JVM's own
 *       namespace, so deleting the namespaces removes every device, FDB entry and iptables chain.
 *   <li>{@link #linkedToHost()}: an underlay on a free 10.x.y.0/24 that the test JVM's namespace
 *       also joins (at {@link #hostIp()}), so the test can talk gRPC to processes in the hosts.
 *       The subnet is chosen so parallel test runs on one machine never share one.
 * </ul>
 *
 * <p>Long-running processes go into a host with {@link #inHost}: it enters only the network
 * namespace ({@code nsenter --net}), unlike {@code ip netns exec}, which also unshares the mount
 * namespace and remounts /sys; a process started that way would see no /sys/fs/cgroup and make
 * its mounts where the host (and the next agent after a restart) cannot see them.
 *
 * <p>Thread model: add/delete from one thread; {@link #exec} and friends are thread-safe. Errors:
 * a failing command is an {@link IOException} carrying its output. {@link #close} deletes every
 * namespace it made (kill the processes you started inside first: a process keeps its namespace).
 */
public final class TestHosts implements AutoCloseable {
  public static final String OUTSIDE_IP = "192.0.2.100";
  private static final int HOST_SIDE = 254;
  private final String prefix = "bt" + Integer.toHexString(ThreadLocalRandom.current().nextInt(0x10000, 0xfffff));
  private final List<String> namespaces = Collections.synchronizedList(new ArrayList<>());
  private final String subnet;
  private final String sw;
  private final String hostLink;
  /** The "outside" namespace at {@value #OUTSIDE_IP}; null for hosts linked to the test's own namespace. */
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

  /** An isolated underlay 192.0.2.0/24 with an "outside" host at {@value #OUTSIDE_IP}. */
  public TestHosts() throws IOException {
    this("192.0.2", false);
  }

  /** An underlay on a free 10.x.y.0/24 that the test JVM reaches at {@link #hostIp()}. */
  public static TestHosts linkedToHost() throws IOException {
    return new TestHosts(freeSubnet(), true);
  }

  private TestHosts(String subnet, boolean linkToHost) throws IOException {
    this.subnet = subnet;
    sw = addNamespace("sw");
    try {
      check(run("ip", "-n", sw, "link", "add", "ul", "type", "bridge"));
      check(run("ip", "-n", sw, "link", "set", "ul", "up"));
      if (linkToHost) {
        hostLink = prefix + "h";
        // the host end stays in the test JVM's namespace; deleting the switch namespace deletes the pair
        check(run("ip", "link", "add", hostLink, "type", "veth", "peer", "name", "ph", "netns", sw));
        check(run("ip", "-n", sw, "link", "set", "ph", "master", "ul", "up"));
        check(run("ip", "addr", "add", hostIp() + "/24", "dev", hostLink));
        check(run("ip", "link", "set", hostLink, "up"));
        outside = null;
      } else {
        hostLink = null;
        outside = addHost("ext", 100);
      }
    } catch (IOException | RuntimeException e) {
      close();
      throw e;
    }
  }

  /** A 10.x.y prefix no route of this namespace covers yet (x in 64..127 keeps clear of common LANs). */
  private static String freeSubnet() throws IOException {
    String routes = check(run("ip", "-4", "route", "show", "table", "all")).out;
    for (int attempt = 0; attempt < 50; attempt++) {
      String s = "10." + ThreadLocalRandom.current().nextInt(64, 128) + "." + ThreadLocalRandom.current().nextInt(1, 255);
      if (!routes.contains(s + ".")) {
        return s;
      }
    }
    throw new IOException("no free 10.x.y.0/24 subnet found for test hosts");
  }

  /** The address of host {@code n} on the underlay ({@code <subnet>.n}). */
  public String ip(int n) {
    return subnet + "." + n;
  }

  /** The test JVM's own address on a {@link #linkedToHost()} underlay. */
  public String hostIp() {
    return ip(HOST_SIDE);
  }

  /** A test host on the underlay at {@code ip(n)}, with its underlay device "u0". */
  public String addHost(String role, int n) throws IOException {
    if (n < 1 || n >= HOST_SIDE) {
      throw new IllegalArgumentException("host number " + n + " outside 1.." + (HOST_SIDE - 1));
    }
    String ns = addNamespace(role);
    String port = "p" + n;
    check(run("ip", "-n", sw, "link", "add", port, "type", "veth", "peer", "name", "u0", "netns", ns));
    check(run("ip", "-n", sw, "link", "set", port, "master", "ul", "up"));
    check(run("ip", "-n", ns, "addr", "add", ip(n) + "/24", "dev", "u0"));
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

  /**
   * Cuts host {@code ns} off the underlay with iptables DROP rules in its own namespace (both
   * directions), except for the addresses in {@code keep} (e.g. {@link #hostIp()}, so the test can
   * still ask the cut-off host what it thinks).
   */
  public static void partition(String ns, String... keep) throws IOException {
    for (String ip : keep) {
      check(exec(ns, "iptables", "-w", "-A", "INPUT", "-s", ip, "-j", "ACCEPT"));
      check(exec(ns, "iptables", "-w", "-A", "OUTPUT", "-d", ip, "-j", "ACCEPT"));
    }
    check(exec(ns, "iptables", "-w", "-A", "INPUT", "-i", "u0", "-j", "DROP"));
    check(exec(ns, "iptables", "-w", "-A", "OUTPUT", "-o", "u0", "-j", "DROP"));
  }

  /** Removes the rules {@link #partition} added. */
  public static void heal(String ns) throws IOException {
    check(exec(ns, "iptables", "-w", "-F", "INPUT"));
    check(exec(ns, "iptables", "-w", "-F", "OUTPUT"));
  }

  /** Takes host {@code ns}'s underlay link down or up (a cable pull). */
  public static void link(String ns, boolean up) throws IOException {
    check(run("ip", "-n", ns, "link", "set", "u0", up ? "up" : "down"));
  }

  /** The command line that runs {@code cmd} in host {@code ns}'s network namespace only (see class doc). */
  public static List<String> inHost(String ns, List<String> cmd) {
    List<String> c = new ArrayList<>(List.of("nsenter", "--net=/var/run/netns/" + ns, "--"));
    c.addAll(cmd);
    return c;
  }

  /** Runs a command inside a namespace. */
  public static Result exec(String ns, String... cmd) throws IOException {
    List<String> c = new ArrayList<>(List.of("ip", "netns", "exec", ns));
    c.addAll(List.of(cmd));
    return run(c.toArray(String[]::new));
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
    if (hostLink != null) {
      try {
        run("ip", "link", "del", hostLink); // normally gone with the switch namespace already
      } catch (IOException e) {
        System.err.println("could not delete " + hostLink + ": " + e.getMessage());
      }
    }
  }
}
