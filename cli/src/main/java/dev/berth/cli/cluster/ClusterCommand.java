package dev.berth.cli.cluster;

import dev.berth.api.v1.GetClusterRequest;
import dev.berth.api.v1.GetClusterResponse;
import dev.berth.api.v1.GetJoinTokensRequest;
import dev.berth.api.v1.JoinTokens;
import dev.berth.api.v1.ManagerInfo;
import dev.berth.api.v1.NodeRole;
import dev.berth.api.v1.RotateJoinTokenRequest;
import dev.berth.cli.ApiClient;
import dev.berth.cli.ApiCommand;
import dev.berth.cli.CliContext;
import dev.berth.cli.ExitCodes;
import dev.berth.cli.OutputOptions;
import dev.berth.cli.UserException;
import dev.berth.cli.format.Json;
import dev.berth.cli.format.Table;
import java.io.PrintWriter;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code berth cluster info | join-token}. */
@Command(name = "cluster", description = "Inspect the cluster.")
public final class ClusterCommand {
  /** In help order; added by {@link dev.berth.cli.Subcommands}. */
  public static final List<Class<?>> SUBCOMMANDS = List.of(
      ClusterCommand.Info.class, ClusterCommand.JoinToken.class);

  /** Raft view: managers, leader, term, commit and applied indexes. */
  @Command(name = "info", description = "Show the managers and the Raft state.")
  static final class Info extends ApiCommand {
    @Mixin
    OutputOptions output;

    Info(CliContext ctx) {
      super(ctx);
    }

    @Override
    protected int run(ApiClient api) {
      GetClusterResponse r = api.read(s -> s.getCluster(GetClusterRequest.getDefaultInstance()));
      if (output.json()) {
        Json.print(ctx.out(), r);
        return ExitCodes.OK;
      }
      PrintWriter out = ctx.out();
      String leader = r.getManagersList().stream().filter(ManagerInfo::getLeader)
          .map(m -> m.getAddr() + " (" + m.getNodeId() + ")").findFirst().orElse("none");
      out.println("Cluster:        " + r.getCluster().getName() + " (" + r.getCluster().getMeta().getId() + ")");
      out.println("Answered by:    " + r.getAnsweredBy());
      out.println("Leader:         " + leader);
      out.println("Term:           " + r.getTerm());
      out.println("Commit index:   " + r.getCommitIndex());
      out.println("Applied index:  " + r.getAppliedIndex());
      out.println("Managers:       " + r.getManagersCount());
      out.println();
      Table table = new Table("NODE ID", "RAFT ID", "ADDRESS", "ROLE", "MATCH INDEX");
      for (ManagerInfo m : r.getManagersList()) {
        table.row(m.getNodeId(), m.getRaftId(), m.getAddr(), m.getLeader() ? "Leader" : "Follower",
            m.getMatchIndex() == 0 ? "" : Long.toString(m.getMatchIndex()));
      }
      table.print(out);
      return ExitCodes.OK;
    }
  }

  /** Shows (or rotates, then shows) a join token, with the command that uses it. */
  @Command(name = "join-token", description = "Show or rotate the join token for workers or managers.")
  static final class JoinToken extends ApiCommand {
    @Parameters(index = "0", paramLabel = "worker|manager")
    String role;

    @Option(names = "--rotate", description = "Replace the token; the old one stops working.")
    boolean rotate;

    @Option(names = {"-q", "--quiet"}, description = "Print the token only.")
    boolean quiet;

    JoinToken(CliContext ctx) {
      super(ctx);
    }

    @Override
    protected int run(ApiClient api) {
      NodeRole r = switch (role) {
        case "worker" -> NodeRole.WORKER;
        case "manager" -> NodeRole.MANAGER;
        default -> throw UserException.field("ROLE", "'" + role + "' is not worker or manager");
      };
      JoinTokens tokens = rotate
          ? api.write((s, w) -> s.rotateJoinToken(RotateJoinTokenRequest.newBuilder().setWrite(w).setRole(r).build()))
          : api.read(s -> s.getJoinTokens(GetJoinTokensRequest.getDefaultInstance()));
      String token = r == NodeRole.WORKER ? tokens.getWorker() : tokens.getManager();
      PrintWriter out = ctx.out();
      if (quiet) {
        out.println(token);
      } else {
        if (rotate) {
          out.println("Rotated the " + role + " join token.");
          out.println();
        }
        out.println("To add a " + role + " to this cluster, run the following command:");
        out.println();
        out.println(r == NodeRole.WORKER
            ? "    berth agent --join " + api.currentManager() + " --token " + token
            : "    berth manager join --token " + token + " " + api.currentManager());
        out.println();
      }
      out.flush();
      return ExitCodes.OK;
    }
  }
}
