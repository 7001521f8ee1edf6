package dev.berth.cli.service;

import dev.berth.cli.ApiClient;
import dev.berth.cli.ApiCommand;
import dev.berth.cli.CliContext;
import dev.berth.cli.Each;
import dev.berth.cli.UserException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/** {@code berth service scale SERVICE=REPLICAS...}: every argument is checked before any is sent. */
@Command(name = "scale", description = "Scale one or more replicated services.")
public final class ServiceScaleCommand extends ApiCommand {
  @Parameters(arity = "1..*", paramLabel = "SERVICE=REPLICAS")
  List<String> targets;

  ServiceScaleCommand(CliContext ctx) {
    super(ctx);
  }

  @Override
  protected int run(ApiClient api) {
    Map<String, Long> wanted = new LinkedHashMap<>();
    for (String t : targets) {
      int eq = t.indexOf('=');
      if (eq <= 0) {
        throw UserException.field(t, "not SERVICE=REPLICAS");
      }
      long n;
      try {
        n = Long.parseLong(t.substring(eq + 1));
      } catch (NumberFormatException e) {
        throw UserException.field(t, "replicas must be a whole number");
      }
      if (n < 0) {
        throw UserException.field(t, "replicas must be >= 0");
      }
      wanted.put(t.substring(0, eq), n);
    }
    return Each.run(ctx, new ArrayList<>(wanted.keySet()), name -> {
      ServiceUpdater.update(api, name, null, (current, spec) -> {
        if (!spec.hasReplicated()) {
          throw UserException.field(name, "scale applies to replicated services only");
        }
        spec.getReplicatedBuilder().setReplicas(wanted.get(name));
      }, req -> { });
      ctx.out().println(name + " scaled to " + wanted.get(name));
      ctx.out().flush();
    });
  }
}
