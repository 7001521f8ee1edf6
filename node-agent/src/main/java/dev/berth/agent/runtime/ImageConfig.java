package dev.berth.agent.runtime;

import java.util.List;

/**
 * The parts of an OCI image's config that decide how its container runs (the image store
 * resolves them from the pulled config blob). Empty strings/lists mean "not set".
 */
public record ImageConfig(List<String> entrypoint, List<String> cmd, List<String> env, String workingDir, String user,
    String stopSignal) {
  public ImageConfig {
    entrypoint = List.copyOf(entrypoint);
    cmd = List.copyOf(cmd);
    env = List.copyOf(env);
    workingDir = workingDir == null ? "" : workingDir;
    user = user == null ? "" : user;
    stopSignal = stopSignal == null ? "" : stopSignal;
  }

  public static ImageConfig empty() {
    return new ImageConfig(List.of(), List.of(), List.of(), "", "", "");
  }
}
