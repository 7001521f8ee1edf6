package dev.berth.cli.service;

import java.util.List;
import picocli.CommandLine.Command;

/** {@code berth service ...}. */
@Command(name = "service", description = "Manage services.")
public final class ServiceCommand {
  /** In help order; added by {@link dev.berth.cli.Subcommands}. */
  public static final List<Class<?>> SUBCOMMANDS = List.of(
      ServiceCreateCommand.class, ServiceLsCommand.class, ServicePsCommand.class, ServiceInspectCommand.class,
      ServiceLogsCommand.class, ServiceUpdateCommand.class, ServiceScaleCommand.class, ServiceRmCommand.class);
}
