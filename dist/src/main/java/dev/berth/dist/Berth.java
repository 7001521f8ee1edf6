package dev.berth.dist;

import dev.berth.cli.BerthCli;
import dev.berth.cli.CliContext;
import dev.berth.cli.CommandGroup;
import dev.berth.cli.GlobalOptions;
import java.util.LinkedHashMap;
import java.util.Map;
import picocli.CommandLine;
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
public final class Berth extends CommandGroup {
  @Mixin
  GlobalOptions global;

  /**
   * Server commands by name, added after the client commands. Each entry is a picocli command
   * class (made by picocli's factory, so a no-argument constructor) or an instance. Wiring one in
   * is one line: replace its placeholder with the class, e.g.
   * {@code commands.put("manager", dev.berth.manager.ManagerCommand.class)}. These commands
   * inherit the client's {@code --manager} option and {@code -h/-V}, so they must not declare an
   * option of the same name.
   */
  static Map<String, Object> serverCommands() {
    Map<String, Object> commands = new LinkedHashMap<>();
    commands.put("manager", new NotBuiltCommand("manager"));
    commands.put("agent", new NotBuiltCommand("agent"));
    return commands;
  }

  public static void main(String[] args) {
    System.exit(run(CliContext.system(), args));
  }

  /** Parses and runs one command line; returns the exit code. */
  public static int run(CliContext ctx, String... args) {
    CommandLine cl = BerthCli.commandLine(new Berth(), ctx);
    serverCommands().forEach(cl::addSubcommand);
    return cl.execute(args);
  }
}
