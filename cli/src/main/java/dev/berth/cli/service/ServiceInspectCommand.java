package dev.berth.cli.service;

import dev.berth.cli.ApiClient;
import dev.berth.cli.ApiCommand;
import dev.berth.cli.CliContext;
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
    return inspect(api, services, (s, r) -> s.getService(r).getService());
  }
}
