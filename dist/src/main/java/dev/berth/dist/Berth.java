package dev.berth.dist;

import dev.berth.cli.BerthCli;
import dev.berth.cli.CliContext;
import dev.berth.cli.GlobalOptions;
import dev.berth.cli.Subcommands;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.ScopeType;

/**
 * The one {@code berth} launcher (main class of {@code dist/target/berth.jar}, run by
 * {@code bin/berth}): the client commands of the cli module plus the server commands
 * {@code berth manager} and {@code berth agent}. Errors and exit codes are the cli module's
 * ({@link dev.berth.cli.ExitCodes}).
 *
 * <p>Startup matters (a person types these commands): nothing here loads gRPC, Netty or the
 * server modules until a command that needs them runs.
 */
@Command(
    name = "berth",
    scope = ScopeType.INHERIT,
    mixinStandardHelpOptions = true,
    versionProvider = BerthCli.Version.class,
    description = "Berth: run services on a cluster of machines.")
public final class Berth {
  @Mixin
  GlobalOptions global;

  /**
   * Server commands, listed after the client commands: built by picocli's default factory (a
   * public no-argument constructor) only when the command line names them, so they cost the
   * client commands nothing. These commands
   * inherit the client's {@code --manager} option and {@code -h/-V}, so they must not declare an
   * option of the same name.
   */
  static final List<Subcommands.Entry> SERVER_COMMANDS = List.of(
      Subcommands.Entry.of(dev.berth.manager.ManagerCommand.class, List.of()),
      Subcommands.Entry.of(dev.berth.agent.AgentCommand.class, List.of()),
      Subcommands.Entry.of(dev.berth.agent.ImageCommand.class, List.of()));

  public static void main(String[] args) {
    System.exit(run(CliContext.system(), args));
  }

  /** Parses and runs one command line; returns the exit code. */
  public static int run(CliContext ctx, String... args) {
    return BerthCli.commandLine(new Berth(), ctx, SERVER_COMMANDS, args).execute(args);
  }
}
