package dev.berth.cli.service;

import dev.berth.api.v1.RemoveServiceRequest;
import dev.berth.cli.ApiClient;
import dev.berth.cli.ApiCommand;
import dev.berth.cli.CliContext;
import dev.berth.cli.Each;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/** {@code berth service rm SERVICE...}: prints each name removed. */
@Command(name = "rm", aliases = "remove", description = "Remove one or more services.")
public final class ServiceRmCommand extends ApiCommand {
  @Parameters(arity = "1..*", paramLabel = "SERVICE")
  List<String> services;

  ServiceRmCommand(CliContext ctx) {
    super(ctx);
  }

  @Override
  protected int run(ApiClient api) {
    return Each.run(ctx, services, name -> {
      api.write((s, w) -> s.removeService(RemoveServiceRequest.newBuilder().setWrite(w).setService(name).build()));
      ctx.out().println(name);
      ctx.out().flush();
    });
  }
}
