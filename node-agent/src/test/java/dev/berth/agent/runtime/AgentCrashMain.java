package dev.berth.agent.runtime;

import dev.berth.agent.cgroup.CgroupManager;
import dev.berth.api.v1.ContainerSpec;
import dev.berth.api.v1.ResourceRequirements;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;

/**
 * A stand-in agent JVM for {@link AdoptionTest}: starts containers, says so, then waits to be
 * killed with SIGKILL. Args: stateRoot launcher nodeId layerDir.
 */
public final class AgentCrashMain {
  private AgentCrashMain() {}

  public static void main(String[] args) throws Exception {
    RuntimeSettings s = RuntimeSettings.defaults(args[2], Path.of(args[0]), Path.of(args[1]));
    ContainerRuntime rt = new ContainerRuntime(s, CgroupManager.detect(args[2]), Clock.systemUTC());
    start(rt, args[3], "early", "echo early-out; exit 3");
    start(rt, args[3], "later", "echo before; sleep 3; echo after; echo late-err >&2; exit 5");
    start(rt, args[3], "long", "echo long-running; exec sleep 120");
    rt.awaitExit("early", Duration.ofSeconds(20)).orElseThrow();
    System.out.println("STARTED");
    System.out.flush();
    Thread.sleep(Long.MAX_VALUE);
  }

  private static void start(ContainerRuntime rt, String layer, String id, String script) {
    ContainerSpec spec = ContainerSpec.newBuilder().addCommand("sh").addArgs("-c").addArgs(script).build();
    rt.create(new ContainerConfig(id, spec, ResourceRequirements.getDefaultInstance(),
        List.of(Path.of(layer))));
    rt.start(id);
  }
}
