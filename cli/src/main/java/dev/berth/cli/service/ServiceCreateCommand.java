package dev.berth.cli.service;

import dev.berth.api.v1.CreateServiceRequest;
import dev.berth.api.v1.GlobalService;
import dev.berth.api.v1.ServiceResponse;
import dev.berth.api.v1.ServiceSpec;
import dev.berth.cli.ApiClient;
import dev.berth.cli.ApiCommand;
import dev.berth.cli.CliContext;
import dev.berth.cli.ExitCodes;
import dev.berth.cli.PassesArgsThrough;
import dev.berth.cli.UserException;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code berth service create [OPTIONS] IMAGE [ARG...]}: prints the new service's id. As in Docker,
 * everything after IMAGE belongs to the container.
 */
@Command(name = "create", description = "Create a service.", sortOptions = false,
    customSynopsis = "berth service create [OPTIONS] IMAGE [ARG...]")
public final class ServiceCreateCommand extends ApiCommand implements PassesArgsThrough {
  @Option(names = "--name", paramLabel = "NAME", description = "Service name.")
  String name;

  @Option(names = "--mode", paramLabel = "replicated|global", defaultValue = "replicated",
      description = "replicated: --replicas tasks; global: one task per node.")
  String mode;

  @Mixin
  SpecOptions spec;

  @Mixin
  ListOptions.Create lists;

  @Mixin
  RegistryAuthOptions registryAuth;

  @Parameters(index = "0", paramLabel = "IMAGE", description = "Image reference, e.g. registry:5000/web:1.2.")
  String image;

  @Parameters(index = "1..*", paramLabel = "ARG", description = "Command and arguments (replace the image's Cmd).")
  List<String> args = List.of();

  ServiceCreateCommand(CliContext ctx) {
    super(ctx);
  }

  @Override
  protected int run(ApiClient api) {
    ServiceSpec.Builder b = ServiceSpec.newBuilder();
    if (name != null) {
      b.setName(name);
    }
    switch (mode) {
      case "replicated" -> b.getReplicatedBuilder().setReplicas(1);
      case "global" -> b.setGlobal(GlobalService.getDefaultInstance());
      default -> throw UserException.field("--mode", "'" + mode + "' is not replicated or global");
    }
    if (image.isBlank()) {
      throw UserException.field("IMAGE", "must not be empty");
    }
    b.getTaskBuilder().getContainerBuilder().setImage(image).addAllArgs(args);
    spec.applyTo(b);
    lists.edits().applyTo(b);
    if (registryAuth.withRegistryAuth) {
      b.getTaskBuilder().getContainerBuilder()
          .setRegistryAuth(RegistryAuthOptions.encodedCredentials(image, ctx.env()));
    }
    ServiceResponse response = api.write((s, w) -> s.createService(CreateServiceRequest.newBuilder()
        .setWrite(w).setSpec(b).setNoResolveImage(registryAuth.noResolveImage).build()));
    ServiceUpdater.printWarnings(ctx.err(), response);
    ctx.out().println(response.getService().getMeta().getId());
    ctx.out().flush();
    return ExitCodes.OK;
  }
}
