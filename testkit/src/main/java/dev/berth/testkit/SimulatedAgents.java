package dev.berth.testkit;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * Demo entry point: N simulated agents ({@link FakeAgent}) join real managers with a join token
 * and run whatever the cluster assigns them in memory, until interrupted. Used by the README
 * demo until the real node agent lands.
 *
 * <p>{@code java -cp ... dev.berth.testkit.SimulatedAgents --manager 127.0.0.1:4243 --token
 * BERTH-1-...-... --agents 10}
 */
@Command(name = "simulated-agents", mixinStandardHelpOptions = true,
    description = "Join simulated (in-memory) agents to a Berth cluster.")
public final class SimulatedAgents implements java.util.concurrent.Callable<Integer> {
  @Option(names = "--manager", required = true, split = ",",
      description = "Manager address(es) host:port (any manager; followers redirect).")
  List<String> managers;

  @Option(names = "--token", required = true, description = "Worker join token.")
  String token;

  @Option(names = "--agents", defaultValue = "3", description = "How many agents (default ${DEFAULT-VALUE}).")
  int count;

  @Option(names = "--hostname-prefix", defaultValue = "sim", description = "Hostnames are PREFIX-N.")
  String prefix;

  @Option(names = "--step-delay-ms", defaultValue = "0",
      description = "Delay of each task step ACCEPTED..RUNNING (default ${DEFAULT-VALUE}).")
  long stepDelayMs;

  @Override
  public Integer call() throws InterruptedException {
    if (count < 1) {
      throw new CommandLine.ParameterException(new CommandLine(this), "--agents: must be at least 1");
    }
    FakeAgentFleet fleet = new FakeAgentFleet(2);
    for (int i = 1; i <= count; i++) {
      fleet.start(managers, FakeAgent.Options.of(token, prefix + "-" + i)
          .withStepDelay(Duration.ofMillis(stepDelayMs)));
    }
    List<FakeAgent> agents = fleet.agents();
    CountDownLatch stop = new CountDownLatch(1);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      fleet.close();
      stop.countDown();
    }));
    System.out.printf("%d simulated agents joining %s (Ctrl-C to stop)%n", count, managers);
    while (!stop.await(5, java.util.concurrent.TimeUnit.SECONDS)) {
      long connected = agents.stream().filter(FakeAgent::connected).count();
      long running = agents.stream().mapToLong(a -> a.taskStates().values().stream()
          .filter(s -> s == dev.berth.api.v1.TaskState.RUNNING).count()).sum();
      System.out.printf("connected %d/%d, tasks running %d%n", connected, count, running);
    }
    return 0;
  }

  public static void main(String[] args) {
    System.exit(new CommandLine(new SimulatedAgents()).execute(args));
  }
}
