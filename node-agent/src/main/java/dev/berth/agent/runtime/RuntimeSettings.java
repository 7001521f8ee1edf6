package dev.berth.agent.runtime;

import dev.berth.agent.cgroup.CgroupLimits;
import dev.berth.agent.cgroup.CgroupManager;
import java.nio.file.Path;

/**
 * Fixed settings of one agent's runtime. Container state lives in
 * {@code stateRoot/runtime/<nodeId>/<containerId>}.
 *
 * @param launcher path of the extracted native launcher ({@link LauncherBinary#extract})
 * @param logMaxBytes size at which a container's log file is rotated
 * @param logFiles number of log files kept per container (current + rotated)
 * @param defaultPidsLimit pids limit for tasks whose spec sets none
 * @param userNsBase first host uid/gid of the range a user-namespaced container's 0..65535 maps to
 */
public record RuntimeSettings(String nodeId, Path stateRoot, Path launcher, long logMaxBytes, int logFiles,
    long defaultPidsLimit, long userNsBase) {
  public RuntimeSettings {
    CgroupManager.checkName("node id", nodeId);
    if (logMaxBytes < 4096 || logFiles < 1 || defaultPidsLimit < 1 || userNsBase < 1) {
      throw new IllegalArgumentException("invalid runtime settings: log max " + logMaxBytes + " (min 4096), log files "
          + logFiles + " (min 1), default pids " + defaultPidsLimit + ", userns base " + userNsBase);
    }
  }

  public static RuntimeSettings defaults(String nodeId, Path stateRoot, Path launcher) {
    return new RuntimeSettings(nodeId, stateRoot, launcher, 10L << 20, 3, CgroupLimits.DEFAULT_PIDS_LIMIT, 100_000);
  }

  Path containersDir() {
    return stateRoot.resolve("runtime").resolve(nodeId);
  }
}
