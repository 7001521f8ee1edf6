package dev.berth.cli.service;

import dev.berth.api.v1.ListRequest;
import dev.berth.api.v1.ListTasksRequest;
import dev.berth.api.v1.ListTasksResponse;
import dev.berth.api.v1.Node;
import dev.berth.api.v1.Task;
import dev.berth.api.v1.TaskState;
import dev.berth.cli.ApiClient;
import dev.berth.cli.ApiCommand;
import dev.berth.cli.CliContext;
import dev.berth.cli.ExitCodes;
import dev.berth.cli.OutputOptions;
import dev.berth.cli.format.HumanTime;
import dev.berth.cli.format.Json;
import dev.berth.cli.format.Sizes;
import dev.berth.cli.format.Table;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code berth service ps SERVICE...}: one row per task, as {@code docker service ps}: the newest
 * task of each slot first, its predecessors below it marked {@code \_}. CPU and MEM columns appear
 * when the cluster reports usage; PORTS when a task binds host ports. {@code --format json} prints
 * the tasks as a JSON array.
 */
@Command(name = "ps", description = "List the tasks of one or more services.")
public final class ServicePsCommand extends ApiCommand {
  private static final int ERROR_WIDTH = 40;

  @Option(names = "--no-trunc", description = "Do not shorten ids, images and errors.")
  boolean noTrunc;

  @Mixin
  OutputOptions output;

  @Parameters(arity = "1..*", paramLabel = "SERVICE")
  List<String> services;

  ServicePsCommand(CliContext ctx) {
    super(ctx);
  }

  @Override
  protected int run(ApiClient api) {
    List<Task> tasks = new ArrayList<>();
    for (String service : services) {
      ListTasksResponse r = api.read(s -> s.listTasks(ListTasksRequest.newBuilder().setService(service).build()));
      tasks.addAll(r.getTasksList());
    }
    if (output.json()) {
      Json.printArray(ctx.out(), tasks);
      return ExitCodes.OK;
    }
    Map<String, String> hostnames = new HashMap<>();
    if (tasks.stream().anyMatch(t -> !t.getNodeId().isEmpty())) {
      for (Node n : api.read(s -> s.listNodes(ListRequest.getDefaultInstance())).getNodesList()) {
        hostnames.put(n.getMeta().getId(), n.getDescription().getHostname());
      }
    }
    print(ordered(tasks), hostnames);
    return ExitCodes.OK;
  }

  /** Groups tasks by slot (by node for global services), newest first within a group. */
  static List<Task> ordered(List<Task> tasks) {
    Comparator<Task> bySlot = Comparator.comparing(Task::getServiceName)
        .thenComparing(Task::getServiceId)
        .thenComparingLong(Task::getSlot)
        .thenComparing(t -> t.getSlot() == 0 ? t.getNodeId() : "");
    Comparator<Task> newestFirst = Comparator.comparingLong((Task t) -> t.getMeta().getCreatedAtMs()).reversed()
        .thenComparing(Comparator.comparingInt(Task::getAttempt).reversed());
    List<Task> sorted = new ArrayList<>(tasks);
    sorted.sort(bySlot.thenComparing(newestFirst));
    return sorted;
  }

  private void print(List<Task> tasks, Map<String, String> hostnames) {
    boolean usage = tasks.stream().anyMatch(t -> t.getUsage().getSampledAtMs() > 0);
    boolean ports = tasks.stream().anyMatch(t -> t.getHostPortsCount() > 0);
    List<String> headers = new ArrayList<>(List.of("ID", "NAME", "IMAGE", "NODE", "DESIRED STATE", "CURRENT STATE", "ERROR"));
    if (usage) {
      headers.addAll(List.of("CPU", "MEM"));
    }
    if (ports) {
      headers.add("PORTS");
    }
    Table table = new Table(headers.toArray(String[]::new));
    String previousGroup = null;
    for (Task t : tasks) {
      String name = t.getServiceName() + "." + (t.getSlot() != 0 ? Long.toString(t.getSlot()) : t.getNodeId());
      String group = t.getServiceId() + "/" + name;
      boolean history = group.equals(previousGroup);
      previousGroup = group;
      List<Object> row = new ArrayList<>(List.of(
          noTrunc ? t.getMeta().getId() : Ids.shortId(t.getMeta().getId()),
          history ? " \\_ " + name : name,
          image(t),
          hostnames.getOrDefault(t.getNodeId(), t.getNodeId()),
          stateName(t.getDesiredState()),
          currentState(t, ctx.clock()),
          error(t)));
      if (usage) {
        boolean sampled = t.getUsage().getSampledAtMs() > 0;
        row.add(sampled ? String.format(Locale.ROOT, "%.1f%%", t.getUsage().getNanoCpus() / 1e7) : "");
        row.add(sampled ? Sizes.format(t.getUsage().getMemoryBytes()) : "");
      }
      if (ports) {
        row.add(String.join(", ", t.getHostPortsList().stream()
            .map(p -> "*:" + p.getPort() + "/" + p.getProtocol().name().toLowerCase(Locale.ROOT)).toList()));
      }
      table.row(row.toArray());
    }
    table.print(ctx.out());
  }

  private String image(Task t) {
    String image = t.getSpec().getContainer().getImage();
    String digest = t.getSpec().getContainer().getImageDigest();
    return noTrunc && !digest.isEmpty() ? image + "@" + digest : image;
  }

  private String error(Task t) {
    String text = !t.getStatus().getErr().isEmpty() ? t.getStatus().getErr()
        : t.getStatus().getState() == TaskState.PENDING ? t.getStatus().getMessage() : "";
    if (text.isEmpty()) {
      return "";
    }
    return "\"" + (noTrunc ? text : Table.truncate(text, ERROR_WIDTH)) + "\"";
  }

  /** {@code Running 5 seconds ago}. */
  static String currentState(Task t, Clock clock) {
    String state = stateName(t.getStatus().getState());
    long at = t.getStatus().getTimestampMs();
    return at > 0 ? state + " " + HumanTime.ago(clock, at) : state;
  }

  /** {@code RUNNING} → {@code Running}. */
  static String stateName(TaskState s) {
    String n = s.name();
    return n.charAt(0) + n.substring(1).toLowerCase(Locale.ROOT);
  }
}
