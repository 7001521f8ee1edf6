package dev.berth.cli;

import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** A command that only groups subcommands ({@code berth service}): run alone, it is a usage error. */
public abstract class CommandGroup implements Callable<Integer> {
  @Spec
  CommandSpec spec;

  @Override
  public Integer call() {
    List<String> names = spec.subcommands().values().stream().distinct().map(CommandLine::getCommandName).toList();
    throw new ParameterException(spec.commandLine(),
        "missing subcommand for '" + spec.qualifiedName() + "' (one of " + String.join(", ", names) + ")");
  }
}
