package dev.berth.cli.service;

import dev.berth.api.v1.ServiceResponse;
import dev.berth.cli.ApiClient;
import dev.berth.cli.ApiCommand;
import dev.berth.cli.CliContext;
import dev.berth.cli.ExitCodes;
import dev.berth.cli.UserException;
import java.util.Arrays;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code berth service update [OPTIONS] SERVICE}: changes only what the flags name, guarded by the
 * version read (see {@link ServiceUpdater}); prints the service name.
 */
@Command(name = "update", description = "Update a service.", sortOptions = false,
    customSynopsis = "berth service update [OPTIONS] SERVICE")
public final class ServiceUpdateCommand extends ApiCommand {
  @Option(names = "--image", paramLabel = "IMAGE", description = "New image reference.")
  String image;

  @Option(names = "--args", paramLabel = "ARGS", description = "New command arguments (split on spaces).")
  String args;

  @Option(names = "--if-version", paramLabel = "V",
      description = "Apply only if the service is at version V (default: the version just read; 0: always).")
  Long ifVersion;

  @Option(names = "--rebalance", description = "Move the fewest tasks needed to restore spread.")
  boolean rebalance;

  @Option(names = "--rollback", description = "Go back to the previous spec.")
  boolean rollback;

  @Option(names = "--force", description = "Replace every task even if the spec is unchanged.")
  boolean force;

  @Mixin
  SpecOptions spec;

  @Mixin
  ListOptions.Update lists;

  @Mixin
  RegistryAuthOptions registryAuth;

  @Parameters(index = "0", paramLabel = "SERVICE", description = "Service name or id.")
  String service;

  ServiceUpdateCommand(CliContext ctx) {
    super(ctx);
  }

  @Override
  protected int run(ApiClient api) {
    if (ifVersion != null && ifVersion < 0) {
      throw UserException.field("--if-version", "must be >= 0");
    }
    ServiceResponse response = ServiceUpdater.update(api, service, ifVersion, (current, b) -> {
      if (image != null) {
        if (image.isBlank()) {
          throw UserException.field("--image", "must not be empty");
        }
        // A new reference needs a new digest; the manager resolves it.
        b.getTaskBuilder().getContainerBuilder().setImage(image).clearImageDigest();
      }
      if (args != null) {
        b.getTaskBuilder().getContainerBuilder().clearArgs()
            .addAllArgs(Arrays.stream(args.trim().split("\\s+")).filter(a -> !a.isEmpty()).toList());
      }
      spec.applyTo(b);
      lists.edits().applyTo(b);
      if (registryAuth.withRegistryAuth) {
        // Without the flag the spec keeps the credentials it has (the manager restores them).
        b.getTaskBuilder().getContainerBuilder().setRegistryAuth(RegistryAuthOptions.encodedCredentials(
            b.getTaskBuilder().getContainerBuilder().getImage(), ctx.env()));
      }
      if (rollback && !b.build().equals(current.getSpec())) {
        throw UserException.field("--rollback", "cannot be combined with changes to the spec");
      }
    }, req -> req.setRebalance(rebalance).setRollback(rollback).setForce(force)
        .setNoResolveImage(registryAuth.noResolveImage));
    ServiceUpdater.printWarnings(ctx.err(), response);
    ctx.out().println(response.getService().getSpec().getName());
    ctx.out().flush();
    return ExitCodes.OK;
  }
}
