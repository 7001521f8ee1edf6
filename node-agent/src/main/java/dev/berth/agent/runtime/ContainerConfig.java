package dev.berth.agent.runtime;

import dev.berth.api.v1.ContainerSpec;
import dev.berth.api.v1.ResourceRequirements;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What to run: the task's {@link ContainerSpec} made effective by the image package's {@code
 * ConfigMerger} (command + args is the argv, env and dir, user and stop signal already combined
 * with the image's config by Docker's rules), its {@link ResourceRequirements} (the proto objects
 * themselves, not copies), and the image's unpacked layers. The runtime applies no image rules of
 * its own; it only adds what a container gets from its runtime (HOSTNAME, the default hostname).
 * Immutable.
 *
 * @param lowerDirs unpacked image layers, topmost first (overlayfs lowerdir order)
 * @param netns a network namespace (its /run/netns path) the container joins, already wired by the
 *     agent's network controller; null: the container gets a new, empty one with loopback up
 * @param files files put into the container's root before it starts (path inside the root, e.g.
 *     "/etc/resolv.conf", to content); they shadow the image's
 */
public record ContainerConfig(String id, ContainerSpec spec, ResourceRequirements resources, List<Path> lowerDirs,
    Path netns, Map<String, String> files) {
  static final Duration DEFAULT_STOP_GRACE = Duration.ofSeconds(10);

  /** A container with its own empty network namespace and the image's files only. */
  public ContainerConfig(String id, ContainerSpec spec, ResourceRequirements resources, List<Path> lowerDirs) {
    this(id, spec, resources, lowerDirs, null, Map.of());
  }

  public ContainerConfig {
    files = Map.copyOf(files);
    for (String f : files.keySet()) {
      if (!f.startsWith("/") || f.endsWith("/") || List.of(f.split("/")).contains("..")) {
        throw new ContainerRuntimeException(ContainerRuntimeException.Reason.INVALID_CONFIG,
            "container " + id + ": file path '" + f + "' must be absolute, name a file and contain no '..'");
      }
    }
    lowerDirs = List.copyOf(lowerDirs);
    if (lowerDirs.isEmpty()) {
      throw new ContainerRuntimeException(ContainerRuntimeException.Reason.INVALID_CONFIG,
          "container " + id + " has no image layers");
    }
  }

  /** Command + args of the (merged) spec. */
  public List<String> argv() {
    List<String> argv = new ArrayList<>(spec.getCommandList());
    argv.addAll(spec.getArgsList());
    if (argv.isEmpty()) {
      throw new ContainerRuntimeException(ContainerRuntimeException.Reason.INVALID_CONFIG,
          "container " + id + ": no command specified (neither the spec nor the image sets one)");
    }
    return argv;
  }

  /** The spec's env with HOSTNAME added, ordered as Docker's daemon does: PATH, HOSTNAME, then the rest. */
  public List<String> env() {
    Map<String, String> env = new LinkedHashMap<>();
    spec.getEnvList().stream().filter(e -> e.startsWith("PATH=")).forEach(e -> put(env, e));
    put(env, "HOSTNAME=" + hostname());
    spec.getEnvList().forEach(e -> put(env, e));
    return env.values().stream().toList();
  }

  private void put(Map<String, String> env, String kv) {
    int eq = kv.indexOf('=');
    if (eq <= 0) {
      throw new ContainerRuntimeException(ContainerRuntimeException.Reason.INVALID_CONFIG,
          "container " + id + ": environment entry '" + kv + "' is not KEY=VALUE");
    }
    env.put(kv.substring(0, eq), kv);
  }

  public String hostname() {
    return spec.getHostname().isEmpty() ? id.substring(0, Math.min(12, id.length())) : spec.getHostname();
  }

  /** The spec's dir; "/" when unset (the merge always sets one). */
  public String workingDir() {
    return spec.getDir().isEmpty() ? "/" : spec.getDir();
  }

  public String user() {
    return spec.getUser();
  }

  /** The spec's stop signal; SIGTERM when unset (the merge always sets one). */
  public String stopSignal() {
    return spec.getStopSignal().isEmpty() ? "SIGTERM" : spec.getStopSignal();
  }

  public Duration stopGracePeriod() {
    return spec.getStopGracePeriodMs() > 0 ? Duration.ofMillis(spec.getStopGracePeriodMs()) : DEFAULT_STOP_GRACE;
  }
}
