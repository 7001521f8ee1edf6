package dev.berth.cli.service;

import dev.berth.api.v1.ListRequest;
import dev.berth.api.v1.ListServicesResponse;
import dev.berth.api.v1.ReplicaCount;
import dev.berth.api.v1.Service;
import dev.berth.cli.ApiClient;
import dev.berth.cli.ApiCommand;
import dev.berth.cli.CliContext;
import dev.berth.cli.ExitCodes;
import dev.berth.cli.OutputOptions;
import dev.berth.cli.format.Json;
import dev.berth.cli.format.Table;
import java.util.Comparator;
import java.util.stream.Collectors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/**
 * {@code berth service ls}: ID NAME MODE REPLICAS IMAGE PORTS, replicas as running/desired.
 * {@code --format json} prints the whole ListServicesResponse (services, replica counts, index).
 */
@Command(name = "ls", aliases = "list", description = "List services.")
public final class ServiceLsCommand extends ApiCommand {
  @Mixin
  OutputOptions output;

  ServiceLsCommand(CliContext ctx) {
    super(ctx);
  }

  @Override
  protected int run(ApiClient api) {
    ListServicesResponse response = api.read(s -> s.listServices(ListRequest.getDefaultInstance()));
    if (output.json()) {
      Json.print(ctx.out(), response);
      return ExitCodes.OK;
    }
    Table table = new Table("ID", "NAME", "MODE", "REPLICAS", "IMAGE", "PORTS");
    response.getServicesList().stream()
        .sorted(Comparator.comparing((Service s) -> s.getSpec().getName()))
        .forEach(s -> table.row(
            Ids.shortId(s.getMeta().getId()),
            s.getSpec().getName(),
            s.getSpec().hasGlobal() ? "global" : "replicated",
            replicas(s, response.getReplicaCountsMap().get(s.getMeta().getId())),
            s.getSpec().getTask().getContainer().getImage(),
            s.getSpec().getEndpoint().getPortsList().stream().map(PortSpecs::format)
                .collect(Collectors.joining(", "))));
    table.print(ctx.out());
    return ExitCodes.OK;
  }

  static String replicas(Service s, ReplicaCount count) {
    long desired = count != null ? count.getDesired()
        : s.getSpec().hasReplicated() ? s.getSpec().getReplicated().getReplicas() : 0;
    long running = count != null ? count.getRunning() : 0;
    int max = s.getSpec().getTask().getPlacement().getMaxReplicasPerNode();
    return running + "/" + desired + (max > 0 ? " (max " + max + " per node)" : "");
  }
}
