package dev.berth.cli.service;

import dev.berth.api.v1.ContainerSpec;
import dev.berth.api.v1.HealthCheck;
import dev.berth.api.v1.RestartPolicy;
import dev.berth.api.v1.SchedulingStrategy;
import dev.berth.api.v1.ServiceSpec;
import dev.berth.api.v1.UpdateConfig;
import dev.berth.cli.Converters;
import dev.berth.cli.UserException;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Option;

/**
 * The single-valued service flags shared by {@code service create} and {@code service update}.
 * Every field is null until given, and {@link #applyTo} changes only the fields given, so the same
 * code builds a new spec and edits an existing one.
 */
public final class SpecOptions {
  @Option(names = "--replicas", paramLabel = "N", description = "Number of tasks (replicated mode).")
  Long replicas;

  @Option(names = "--reserve-cpu", paramLabel = "CPUS", converter = Converters.Cpu.class,
      description = "CPUs reserved per task, e.g. 0.5.")
  Long reserveCpu;

  @Option(names = "--reserve-memory", paramLabel = "BYTES", converter = Converters.Size.class,
      description = "Memory reserved per task, e.g. 256M.")
  Long reserveMemory;

  @Option(names = "--limit-cpu", paramLabel = "CPUS", converter = Converters.Cpu.class,
      description = "CPU limit per task.")
  Long limitCpu;

  @Option(names = "--limit-memory", paramLabel = "BYTES", converter = Converters.Size.class,
      description = "Memory limit per task, e.g. 512M.")
  Long limitMemory;

  @Option(names = "--limit-pids", paramLabel = "N", description = "Maximum processes per task (0: agent default).")
  Long limitPids;

  @Option(names = "--replicas-max-per-node", paramLabel = "N", description = "Maximum tasks per node (0: unlimited).")
  Integer maxReplicasPerNode;

  @Option(names = "--restart-condition", paramLabel = "any|on-failure|none",
      description = "When to replace a finished task.")
  String restartCondition;

  @Option(names = "--restart-delay", paramLabel = "DURATION", converter = Converters.Millis.class,
      description = "Delay between restart attempts, e.g. 5s.")
  Long restartDelay;

  @Option(names = "--restart-max-attempts", paramLabel = "N", description = "Maximum restarts (0: unlimited).")
  Integer restartMaxAttempts;

  @Option(names = "--restart-window", paramLabel = "DURATION", converter = Converters.Millis.class,
      description = "Window over which restart attempts are counted.")
  Long restartWindow;

  @Option(names = "--update-parallelism", paramLabel = "N", description = "Tasks updated at once (0: all).")
  Long updateParallelism;

  @Option(names = "--update-delay", paramLabel = "DURATION", converter = Converters.Millis.class,
      description = "Delay between task updates.")
  Long updateDelay;

  @Option(names = "--update-failure-action", paramLabel = "pause|continue|rollback",
      description = "What an update does when a task fails.")
  String updateFailureAction;

  @Option(names = "--update-order", paramLabel = "stop-first|start-first",
      description = "Stop the old task before starting its replacement, or the reverse.")
  String updateOrder;

  @Option(names = "--health-cmd", paramLabel = "CMD", description = "Health probe, run with /bin/sh -c.")
  String healthCmd;

  @Option(names = "--health-interval", paramLabel = "DURATION", converter = Converters.Millis.class,
      description = "Time between health probes.")
  Long healthInterval;

  @Option(names = "--health-retries", paramLabel = "N", description = "Failed probes before unhealthy.")
  Integer healthRetries;

  @Option(names = "--health-timeout", paramLabel = "DURATION", converter = Converters.Millis.class,
      description = "Time a probe may take.")
  Long healthTimeout;

  @Option(names = "--health-start-period", paramLabel = "DURATION", converter = Converters.Millis.class,
      description = "Grace period before failed probes count.")
  Long healthStartPeriod;

  @Option(names = "--no-healthcheck", description = "Disable the image's health check.")
  boolean noHealthcheck;

  @Option(names = "--stop-grace-period", paramLabel = "DURATION", converter = Converters.Millis.class,
      description = "Wait before killing a stopping task.")
  Long stopGracePeriod;

  @Option(names = "--stop-signal", paramLabel = "SIG", description = "Signal that stops a task, e.g. SIGTERM.")
  String stopSignal;

  @Option(names = {"-w", "--workdir"}, paramLabel = "DIR", description = "Working directory in the container.")
  String workdir;

  @Option(names = {"-u", "--user"}, paramLabel = "USER", description = "User[:group] the container runs as.")
  String user;

  @Option(names = "--hostname", paramLabel = "NAME", description = "Container hostname.")
  String hostname;

  @Option(names = "--entrypoint", paramLabel = "CMD", description = "Override the image's entrypoint (split on spaces).")
  String entrypoint;

  @Option(names = "--task-history-limit", paramLabel = "N", description = "Finished tasks kept per slot (0: 5).")
  Integer taskHistoryLimit;

  @Option(names = "--strategy", paramLabel = "spread|binpack", description = "How tasks are placed over nodes.")
  String strategy;

  private static final Map<String, RestartPolicy.Condition> CONDITIONS = choices(
      "any", RestartPolicy.Condition.ANY, "on-failure", RestartPolicy.Condition.ON_FAILURE,
      "none", RestartPolicy.Condition.NONE);
  private static final Map<String, UpdateConfig.FailureAction> FAILURE_ACTIONS = choices(
      "pause", UpdateConfig.FailureAction.PAUSE, "continue", UpdateConfig.FailureAction.CONTINUE,
      "rollback", UpdateConfig.FailureAction.ROLLBACK);
  private static final Map<String, UpdateConfig.Order> ORDERS = choices(
      "stop-first", UpdateConfig.Order.STOP_FIRST, "start-first", UpdateConfig.Order.START_FIRST);
  private static final Map<String, SchedulingStrategy> STRATEGIES = choices(
      "spread", SchedulingStrategy.SPREAD, "binpack", SchedulingStrategy.BINPACK);

  /** Writes the given flags into {@code spec}; throws {@link UserException} naming a bad flag. */
  public void applyTo(ServiceSpec.Builder spec) {
    if (replicas != null) {
      nonNegative("--replicas", replicas);
      if (spec.hasGlobal()) {
        throw UserException.field("--replicas", "not allowed for a global service");
      }
      spec.getReplicatedBuilder().setReplicas(replicas);
    }
    // Builders are fetched only when a flag is given: getXBuilder() marks a message as set, and an
    // untouched spec must stay equal to the one read (update --rollback checks that).
    applyResources(spec);
    applyRestart(spec);
    applyUpdate(spec);
    applyHealth(spec);
    if (stopGracePeriod != null) {
      container(spec).setStopGracePeriodMs(stopGracePeriod);
    }
    if (stopSignal != null) {
      container(spec).setStopSignal(stopSignal);
    }
    if (workdir != null) {
      container(spec).setDir(workdir);
    }
    if (user != null) {
      container(spec).setUser(user);
    }
    if (hostname != null) {
      container(spec).setHostname(hostname);
    }
    if (entrypoint != null) {
      container(spec).clearCommand().addAllCommand(words(entrypoint));
    }
    if (maxReplicasPerNode != null) {
      nonNegative("--replicas-max-per-node", maxReplicasPerNode);
      spec.getTaskBuilder().getPlacementBuilder().setMaxReplicasPerNode(maxReplicasPerNode);
    }
    if (taskHistoryLimit != null) {
      nonNegative("--task-history-limit", taskHistoryLimit);
      spec.setTaskHistoryLimit(taskHistoryLimit);
    }
    if (strategy != null) {
      spec.setStrategy(choose("--strategy", strategy, STRATEGIES));
    }
  }

  private void applyResources(ServiceSpec.Builder spec) {
    if (reserveCpu != null) {
      spec.getTaskBuilder().getResourcesBuilder().getReservationsBuilder().setNanoCpus(reserveCpu);
    }
    if (reserveMemory != null) {
      spec.getTaskBuilder().getResourcesBuilder().getReservationsBuilder().setMemoryBytes(reserveMemory);
    }
    if (limitCpu != null) {
      spec.getTaskBuilder().getResourcesBuilder().getLimitsBuilder().setNanoCpus(limitCpu);
    }
    if (limitMemory != null) {
      spec.getTaskBuilder().getResourcesBuilder().getLimitsBuilder().setMemoryBytes(limitMemory);
    }
    if (limitPids != null) {
      nonNegative("--limit-pids", limitPids);
      spec.getTaskBuilder().getResourcesBuilder().setPidsLimit(limitPids);
    }
  }

  private void applyRestart(ServiceSpec.Builder spec) {
    if (restartCondition != null) {
      spec.getTaskBuilder().getRestartPolicyBuilder().setCondition(choose("--restart-condition", restartCondition, CONDITIONS));
    }
    if (restartDelay != null) {
      spec.getTaskBuilder().getRestartPolicyBuilder().setDelayMs(restartDelay);
    }
    if (restartMaxAttempts != null) {
      nonNegative("--restart-max-attempts", restartMaxAttempts);
      spec.getTaskBuilder().getRestartPolicyBuilder().setMaxAttempts(restartMaxAttempts);
    }
    if (restartWindow != null) {
      spec.getTaskBuilder().getRestartPolicyBuilder().setWindowMs(restartWindow);
    }
  }

  private void applyUpdate(ServiceSpec.Builder spec) {
    if (updateParallelism != null) {
      nonNegative("--update-parallelism", updateParallelism);
      spec.getUpdateBuilder().setParallelism(updateParallelism);
    }
    if (updateDelay != null) {
      spec.getUpdateBuilder().setDelayMs(updateDelay);
    }
    if (updateFailureAction != null) {
      spec.getUpdateBuilder().setFailureAction(
          choose("--update-failure-action", updateFailureAction, FAILURE_ACTIONS));
    }
    if (updateOrder != null) {
      spec.getUpdateBuilder().setOrder(choose("--update-order", updateOrder, ORDERS));
    }
  }

  private void applyHealth(ServiceSpec.Builder spec) {
    if (noHealthcheck && healthCmd != null) {
      throw UserException.field("--no-healthcheck", "conflicts with --health-cmd");
    }
    if (noHealthcheck) {
      container(spec).setHealthcheck(HealthCheck.newBuilder().addTest("NONE"));
      return;
    }
    if (healthCmd != null) {
      if (healthCmd.isBlank()) {
        throw UserException.field("--health-cmd", "must not be empty");
      }
      container(spec).getHealthcheckBuilder().clearTest().addTest("CMD-SHELL").addTest(healthCmd);
    }
    if (healthInterval != null) {
      container(spec).getHealthcheckBuilder().setIntervalMs(healthInterval);
    }
    if (healthRetries != null) {
      nonNegative("--health-retries", healthRetries);
      container(spec).getHealthcheckBuilder().setRetries(healthRetries);
    }
    if (healthTimeout != null) {
      container(spec).getHealthcheckBuilder().setTimeoutMs(healthTimeout);
    }
    if (healthStartPeriod != null) {
      container(spec).getHealthcheckBuilder().setStartPeriodMs(healthStartPeriod);
    }
  }

  private static ContainerSpec.Builder container(ServiceSpec.Builder spec) {
    return spec.getTaskBuilder().getContainerBuilder();
  }

  static void nonNegative(String flag, long value) {
    if (value < 0) {
      throw UserException.field(flag, "must be >= 0");
    }
  }

  static <E> E choose(String flag, String value, Map<String, E> choices) {
    E e = choices.get(value.toLowerCase(java.util.Locale.ROOT));
    if (e == null) {
      throw UserException.field(flag, "'" + value + "' is not one of " + String.join(", ", choices.keySet()));
    }
    return e;
  }

  @SuppressWarnings("unchecked")
  private static <E> Map<String, E> choices(Object... pairs) {
    Map<String, E> m = new LinkedHashMap<>();
    for (int i = 0; i < pairs.length; i += 2) {
      m.put((String) pairs[i], (E) pairs[i + 1]);
    }
    return m;
  }

  private static List<String> words(String s) {
    return Arrays.stream(s.trim().split("\\s+")).filter(w -> !w.isEmpty()).toList();
  }
}
