package dev.berth.cli.service;

import dev.berth.api.v1.GetRequest;
import dev.berth.api.v1.Service;
import dev.berth.cli.ApiClient;
import dev.berth.cli.ApiCommand;
import dev.berth.cli.CliContext;
import dev.berth.cli.ExitCodes;
import dev.berth.cli.format.Json;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/** {@code berth service inspect SERVICE...}: a JSON array of the services, as {@code docker inspect}. */
@Command(name = "inspect", description = "Show services in detail (JSON).")
public final class ServiceInspectCommand extends ApiCommand {
  @Parameters(arity = "1..*", paramLabel = "SERVICE")
  List<String> services;

  ServiceInspectCommand(CliContext ctx) {
    super(ctx);
  }

  @Override
  protected int run(ApiClient api) {
    List<Service> found = new ArrayList<>();
    for (String name : services) {
      found.add(api.read(s -> s.getService(GetRequest.newBuilder().setId(name).build())).getService());
    }
    Json.printArray(ctx.out(), found);
    return ExitCodes.OK;
  }
}
