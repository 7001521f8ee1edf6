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
 * What to run: the task's {@link ContainerSpec} and {@link ResourceRequirements} (the proto
 * objects themselves, not copies), the resolved image config, and the image's unpacked layers.
 * The accessors apply Docker's rules for combining spec and image. Immutable.
 *
 * @param lowerDirs unpacked image layers, topmost first (overlayfs lowerdir order)
 */
public record ContainerConfig(String id, ContainerSpec spec, ResourceRequirements resources, ImageConfig image,
    List<Path> lowerDirs) {
  static final String DEFAULT_PATH = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
  static final Duration DEFAULT_STOP_GRACE = Duration.ofSeconds(10);

  public ContainerConfig {
    lowerDirs = List.copyOf(lowerDirs);
    if (lowerDirs.isEmpty()) {
      throw new ContainerRuntimeException(ContainerRuntimeException.Reason.INVALID_CONFIG,
          "container " + id + " has no image layers");
    }
  }

  /**
   * Entrypoint + cmd. As in Docker, a spec command replaces the image's entrypoint and also
   * drops the image's cmd; spec args replace the cmd.
   */
  public List<String> argv() {
    List<String> entry = spec.getCommandCount() > 0 ? spec.getCommandList() : image.entrypoint();
    List<String> cmd = spec.getArgsCount() > 0 ? spec.getArgsList()
        : spec.getCommandCount() > 0 ? List.of() : image.cmd();
    List<String> argv = new ArrayList<>(entry);
    argv.addAll(cmd);
    if (argv.isEmpty()) {
      throw new ContainerRuntimeException(ContainerRuntimeException.Reason.INVALID_CONFIG,
          "container " + id + ": no command specified (neither the spec nor the image sets one)");
    }
    return argv;
  }

  /** Image env, overridden key by key by the spec's; PATH defaulted, HOSTNAME set, as Docker does. */
  public List<String> env() {
    Map<String, String> env = new LinkedHashMap<>();
    put(env, DEFAULT_PATH);
    put(env, "HOSTNAME=" + hostname());
    image.env().forEach(e -> put(env, e));
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

  public String workingDir() {
    return !spec.getDir().isEmpty() ? spec.getDir() : image.workingDir().isEmpty() ? "/" : image.workingDir();
  }

  public String user() {
    return !spec.getUser().isEmpty() ? spec.getUser() : image.user();
  }

  public String stopSignal() {
    return !spec.getStopSignal().isEmpty() ? spec.getStopSignal()
        : image.stopSignal().isEmpty() ? "SIGTERM" : image.stopSignal();
  }

  public Duration stopGracePeriod() {
    return spec.getStopGracePeriodMs() > 0 ? Duration.ofMillis(spec.getStopGracePeriodMs()) : DEFAULT_STOP_GRACE;
  }
}
