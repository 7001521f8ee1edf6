package dev.berth.testkit.hosts;

import dev.berth.agent.ImageCommand;
import dev.berth.agent.runtime.ContainerInfo;
import dev.berth.agent.runtime.ContainerRuntime;
import dev.berth.agent.runtime.LauncherBinary;
import dev.berth.agent.runtime.RuntimeSettings;
import dev.berth.agent.cgroup.CgroupManager;
import dev.berth.agent.session.NodeIdStore;
import dev.berth.testhosts.TestHosts;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import picocli.CommandLine;

/**
 * A {@code berth agent} process in its own test host, with its own state dir (hence its own node
 * id, image store, container state and cgroups {@code berth-<nodeId>}).
 *
 * <p>Thread model: drive it from the test thread. Errors: as {@link HostJvm}; {@link #importImage}
 * fails with an {@link IOException} carrying the import's message.
 */
public final class HostAgent {
  private final String namespace;
  private final String ip;
  private final Path stateDir;
  private final String executor;
  private final List<String> join;
  private final String token;
  private final HostJvm jvm;

  HostAgent(String namespace, String ip, Path stateDir, String executor, List<String> join, String token) {
    this.namespace = namespace;
    this.ip = ip;
    this.stateDir = stateDir;
    this.executor = executor;
    this.join = List.copyOf(join);
    this.token = token;
    this.jvm = new HostJvm(namespace, "dev.berth.agent.AgentCommand", Path.of(stateDir + ".log"));
  }

  /** {@code berth image import} into this agent's store (run it while the agent is stopped). */
  public void importImage(Path tar, String name) throws IOException {
    var err = new java.io.StringWriter();
    CommandLine cl = new CommandLine(new ImageCommand()).setErr(new java.io.PrintWriter(err));
    int code = cl.execute("import", tar.toString(), "--name", name, "--state-dir", stateDir.toString());
    if (code != 0) {
      throw new IOException("image import into " + stateDir + " failed (" + code + "): " + err);
    }
  }

  /** Starts (or restarts) the agent process; it joins through the managers given at creation. */
  public void start() throws IOException {
    List<String> args = new ArrayList<>(List.of("--join", String.join(",", join), "--token", token,
        "--executor", executor, "--state-dir", stateDir.toString(), "--advertise-addr", ip,
        "--label", "host=" + namespace));
    jvm.start(args, null, 0);
  }

  /** kill -9: the containers' monitors live on, as after an agent crash. */
  public void kill() {
    jvm.kill();
  }

  public boolean alive() {
    return jvm.alive();
  }

  public String namespace() {
    return namespace;
  }

  public String ip() {
    return ip;
  }

  public Path stateDir() {
    return stateDir;
  }

  public Path log() {
    return jvm.log();
  }

  /** The node id the agent got when it registered (empty before). */
  public Optional<String> nodeId() {
    return Files.isDirectory(stateDir) ? new NodeIdStore(stateDir).load() : Optional.empty();
  }

  /** The containers this agent's node has on this machine, read from its runtime state. */
  public List<ContainerInfo> containers() {
    return nodeId().map(id -> runtime(id).list()).orElse(List.of());
  }

  /**
   * Removes everything the agent's node made on this machine (containers, cgroups, container
   * state, the containers' named network namespaces {@code /run/netns/berth-<nodeId>-<task>}), with the agent's own runtime code, which never touches another node's resources. Call
   * it with the agent stopped.
   */
  public void destroyContainers() {
    nodeId().ifPresent(id -> {
      if (Files.isDirectory(stateDir.resolve("runtime").resolve(id))) {
        runtime(id).destroyAll();
      }
      deleteNetns("berth-" + id + "-");
    });
  }

  /** The network namespaces named {@code prefix*} (the agent makes one per task that has networks). */
  private static void deleteNetns(String prefix) {
    Path dir = Path.of("/run/netns");
    if (!Files.isDirectory(dir)) {
      return;
    }
    try (var names = Files.list(dir)) {
      for (String n : names.map(p -> p.getFileName().toString()).filter(n -> n.startsWith(prefix)).toList()) {
        TestHosts.run("ip", "netns", "del", n);
      }
    } catch (IOException e) {
      System.err.println("removing the network namespaces " + prefix + "*: " + e.getMessage());
    }
  }

  private ContainerRuntime runtime(String nodeId) {
    return new ContainerRuntime(RuntimeSettings.defaults(nodeId, stateDir, LauncherBinary.extract(stateDir.resolve("bin"))),
        CgroupManager.detect(nodeId), Clock.systemUTC());
  }
}
