package dev.berth.cli.node;

import dev.berth.api.v1.GetRequest;
import dev.berth.api.v1.ListNodesResponse;
import dev.berth.api.v1.ListRequest;
import dev.berth.api.v1.Node;
import dev.berth.api.v1.NodeAvailability;
import dev.berth.api.v1.NodeRole;
import dev.berth.api.v1.NodeState;
import dev.berth.api.v1.RemoveNodeRequest;
import dev.berth.api.v1.Resources;
import dev.berth.api.v1.UpdateNodeRequest;
import dev.berth.cli.ApiClient;
import dev.berth.cli.ApiCommand;
import dev.berth.cli.CliContext;
import dev.berth.cli.Each;
import dev.berth.cli.ExitCodes;
import dev.berth.cli.KeyValue;
import dev.berth.cli.OutputOptions;
import dev.berth.cli.UserException;
import dev.berth.cli.format.Cpus;
import dev.berth.cli.format.HumanTime;
import dev.berth.cli.format.Json;
import dev.berth.cli.format.Sizes;
import dev.berth.cli.format.Table;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code berth node ls | inspect | update | promote | demote | rm}. */
@Command(
    name = "node",
    description = "Manage nodes.")
public final class NodeCommand {
  /** In help order; added by {@link dev.berth.cli.Subcommands}. */
  public static final List<Class<?>> SUBCOMMANDS = List.of(
      NodeCommand.Ls.class, NodeCommand.Inspect.class, NodeCommand.Update.class,
      NodeCommand.Promote.class, NodeCommand.Demote.class, NodeCommand.Rm.class);

  /** ID HOSTNAME STATUS AVAILABILITY MANAGER STATUS ENGINE VERSION. */
  @Command(name = "ls", aliases = "list", description = "List nodes.")
  static final class Ls extends ApiCommand {
    @Mixin
    OutputOptions output;

    Ls(CliContext ctx) {
      super(ctx);
    }

    @Override
    protected int run(ApiClient api) {
      ListNodesResponse response = api.read(s -> s.listNodes(ListRequest.getDefaultInstance()));
      if (output.json()) {
        Json.print(ctx.out(), response);
        return ExitCodes.OK;
      }
      Table table = new Table("ID", "HOSTNAME", "STATUS", "AVAILABILITY", "MANAGER STATUS", "ENGINE VERSION");
      response.getNodesList().stream()
          .sorted(Comparator.comparing((Node n) -> n.getDescription().getHostname()))
          .forEach(n -> table.row(
              n.getMeta().getId(),
              n.getDescription().getHostname(),
              status(n.getStatus().getState()),
              capitalized(n.getSpec().getAvailability().name()),
              managerStatus(n),
              n.getDescription().getEngineVersion()));
      table.print(ctx.out());
      return ExitCodes.OK;
    }
  }

  /**
   * JSON array of the nodes (usage included when the leader has a reading), or with
   * {@code --pretty} a summary per node, as {@code docker node inspect --pretty}.
   */
  @Command(name = "inspect", description = "Show nodes in detail (JSON, or --pretty).")
  static final class Inspect extends ApiCommand {
    @Option(names = "--pretty", description = "Print a human-readable summary, with the node's current usage.")
    boolean pretty;

    @Parameters(arity = "1..*", paramLabel = "NODE")
    List<String> nodes;

    Inspect(CliContext ctx) {
      super(ctx);
    }

    @Override
    protected int run(ApiClient api) {
      if (!pretty) {
        return inspect(api, nodes, (s, r) -> s.getNode(r).getNode());
      }
      for (String id : nodes) {
        Node n = api.read(s -> s.getNode(GetRequest.newBuilder().setId(id).build()).getNode());
        printPretty(n);
      }
      return ExitCodes.OK;
    }

    private void printPretty(Node n) {
      Resources cap = n.getDescription().getResources();
      var out = ctx.out();
      out.printf("ID:             %s%n", n.getMeta().getId());
      out.printf("Hostname:       %s%n", n.getDescription().getHostname());
      out.printf("Status:         %s%n", status(n.getStatus().getState()));
      out.printf("Availability:   %s%n", capitalized(n.getSpec().getAvailability().name()));
      out.printf("Role:           %s%n", capitalized(n.getRole().name()));
      out.printf("Resources:      CPUs %s, Memory %s%n", Cpus.format(cap.getNanoCpus()), Sizes.format(cap.getMemoryBytes()));
      if (n.getUsage().getSampledAtMs() > 0) {
        Resources used = n.getUsage().getUsed();
        out.printf("Usage:          CPUs %s%s, Memory %s%s, sampled %s%n",
            Cpus.format(used.getNanoCpus()), share(used.getNanoCpus(), cap.getNanoCpus()),
            Sizes.format(used.getMemoryBytes()), share(used.getMemoryBytes(), cap.getMemoryBytes()),
            HumanTime.ago(ctx.clock(), n.getUsage().getSampledAtMs()));
      } else {
        out.println("Usage:          not reported (the leader holds agents' readings)");
      }
    }

    private static String share(long used, long capacity) {
      return capacity <= 0 ? "" : String.format(Locale.ROOT, " (%.1f%%)", 100.0 * used / capacity);
    }
  }

  /** Availability, labels, role; unchanged fields are left alone by the server. */
  @Command(name = "update", description = "Update a node.")
  static final class Update extends ApiCommand {
    @Option(names = "--availability", paramLabel = "active|pause|drain", description = "Whether the node gets tasks.")
    String availability;

    @Option(names = "--label-add", paramLabel = "KEY[=VALUE]", description = "Add or replace a label.")
    List<String> labelAdd = List.of();

    @Option(names = "--label-rm", paramLabel = "KEY", description = "Remove a label.")
    List<String> labelRm = List.of();

    @Option(names = "--role", paramLabel = "worker|manager", description = "Desired role.")
    String role;

    @Option(names = "--if-version", paramLabel = "V", description = "Apply only if the node is at version V.")
    Long ifVersion;

    @Parameters(index = "0", paramLabel = "NODE")
    String node;

    Update(CliContext ctx) {
      super(ctx);
    }

    @Override
    protected int run(ApiClient api) {
      UpdateNodeRequest.Builder req = UpdateNodeRequest.newBuilder().setNode(node);
      if (availability != null) {
        req.setAvailability(switch (availability.toLowerCase(Locale.ROOT)) {
          case "active" -> NodeAvailability.ACTIVE;
          case "pause" -> NodeAvailability.PAUSE;
          case "drain" -> NodeAvailability.DRAIN;
          default -> throw UserException.field("--availability", "'" + availability + "' is not active, pause or drain");
        });
      }
      for (String kv : labelAdd) {
        KeyValue label = KeyValue.parse("--label-add", kv);
        req.putLabelAdd(label.key(), label.value());
      }
      req.addAllLabelRm(labelRm);
      if (role != null) {
        req.setDesiredRole(role(role));
      }
      if (ifVersion != null) {
        if (ifVersion < 0) {
          throw UserException.field("--if-version", "must be >= 0");
        }
        req.setIfVersion(ifVersion);
      }
      if (availability == null && labelAdd.isEmpty() && labelRm.isEmpty() && role == null) {
        throw new UserException("node update: nothing to change (use --availability, --label-add, --label-rm or --role)");
      }
      api.write((s, w) -> s.updateNode(req.setWrite(w).build()));
      ctx.out().println(node);
      ctx.out().flush();
      return ExitCodes.OK;
    }
  }

  /** Shared by promote and demote: set the desired role of each node. */
  abstract static class RoleChange extends ApiCommand {
    @Parameters(arity = "1..*", paramLabel = "NODE")
    List<String> nodes;

    RoleChange(CliContext ctx) {
      super(ctx);
    }

    abstract NodeRole target();

    @Override
    protected int run(ApiClient api) {
      return Each.run(ctx, nodes, n -> {
        api.write((s, w) -> s.updateNode(
            UpdateNodeRequest.newBuilder().setWrite(w).setNode(n).setDesiredRole(target()).build()));
        ctx.out().println(target() == NodeRole.MANAGER
            ? "Node " + n + " promoted to a manager in the cluster."
            : "Manager " + n + " demoted in the cluster.");
        ctx.out().flush();
      });
    }
  }

  @Command(name = "promote", description = "Make nodes managers.")
  static final class Promote extends RoleChange {
    Promote(CliContext ctx) {
      super(ctx);
    }

    @Override
    NodeRole target() {
      return NodeRole.MANAGER;
    }
  }

  @Command(name = "demote", description = "Make managers workers.")
  static final class Demote extends RoleChange {
    Demote(CliContext ctx) {
      super(ctx);
    }

    @Override
    NodeRole target() {
      return NodeRole.WORKER;
    }
  }

  @Command(name = "rm", aliases = "remove", description = "Remove nodes from the cluster.")
  static final class Rm extends ApiCommand {
    @Option(names = {"-f", "--force"}, description = "Remove even if the node is up or a needed manager.")
    boolean force;

    @Parameters(arity = "1..*", paramLabel = "NODE")
    List<String> nodes;

    Rm(CliContext ctx) {
      super(ctx);
    }

    @Override
    protected int run(ApiClient api) {
      return Each.run(ctx, nodes, n -> {
        api.write((s, w) -> s.removeNode(RemoveNodeRequest.newBuilder().setWrite(w).setNode(n).setForce(force).build()));
        ctx.out().println(n);
        ctx.out().flush();
      });
    }
  }

  static NodeRole role(String value) {
    return switch (value.toLowerCase(Locale.ROOT)) {
      case "worker" -> NodeRole.WORKER;
      case "manager" -> NodeRole.MANAGER;
      default -> throw UserException.field("--role", "'" + value + "' is not worker or manager");
    };
  }

  static String status(NodeState s) {
    return capitalized(s.name().replaceFirst("^NODE_", ""));
  }

  /** Leader / Reachable / Unreachable for managers, empty for workers. */
  static String managerStatus(Node n) {
    if (n.getRole() != NodeRole.MANAGER) {
      return "";
    }
    if (n.getManagerStatus().getLeader()) {
      return "Leader";
    }
    String r = n.getManagerStatus().getReachability();
    return r.isEmpty() ? "Unknown" : capitalized(r);
  }

  static String capitalized(String s) {
    return s.isEmpty() ? s : Character.toUpperCase(s.charAt(0)) + s.substring(1).toLowerCase(Locale.ROOT);
  }
}
