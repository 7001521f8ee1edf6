package dev.berth.cli.service;

import dev.berth.cli.CommandGroup;
import picocli.CommandLine.Command;

/** {@code berth service ...}. */
@Command(
    name = "service",
    description = "Manage services.",
    subcommands = {
      ServiceCreateCommand.class, ServiceLsCommand.class, ServicePsCommand.class, ServiceInspectCommand.class,
      ServiceUpdateCommand.class, ServiceScaleCommand.class, ServiceRmCommand.class
    })
public final class ServiceCommand extends CommandGroup {}
