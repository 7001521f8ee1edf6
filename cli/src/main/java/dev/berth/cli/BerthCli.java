package dev.berth.cli;

import dev.berth.cli.cluster.ClusterCommand;
import dev.berth.cli.network.NetworkCommand;
import dev.berth.cli.node.NodeCommand;
import dev.berth.cli.service.ServiceCommand;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.io.PrintWriter;
import java.util.List;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.IVersionProvider;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.ArgSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Model.PositionalParamSpec;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ScopeType;

/**
 * The {@code berth} client: the command tree of the client commands, and the mapping of errors to
 * messages and exit codes ({@link ExitCodes}). The {@code dist} launcher adds the manager and agent
 * commands to the same tree through {@link #commandLine}. Command groups ({@code berth service})
 * are plain {@code @Command} classes: run without a subcommand, picocli reports the missing
 * subcommand as a usage error.
 */
@Command(
    name = "berth",
    // INHERIT: every subcommand gets -h/--help too.
    scope = ScopeType.INHERIT,
    mixinStandardHelpOptions = true,
    versionProvider = BerthCli.Version.class,
    description = "Run and inspect services on a Berth cluster.")
public final class BerthCli {
  /** The client command groups, in help order. */
  public static final List<Subcommands.Entry> CLIENT_COMMANDS = List.of(
      Subcommands.Entry.of(ServiceCommand.class, ServiceCommand.SUBCOMMANDS),
      Subcommands.Entry.of(NodeCommand.class, NodeCommand.SUBCOMMANDS),
      Subcommands.Entry.of(NetworkCommand.class, NetworkCommand.SUBCOMMANDS),
      Subcommands.Entry.of(ClusterCommand.class, ClusterCommand.SUBCOMMANDS),
      Subcommands.Entry.of(ExecCommand.class, List.of()));

  @Mixin
  GlobalOptions global;

  public static void main(String[] args) {
    System.exit(run(CliContext.system(), args));
  }

  /** Parses and runs one command line with the client commands only; returns the exit code. */
  public static int run(CliContext ctx, String... args) {
    return commandLine(new BerthCli(), ctx, List.of(), args).execute(args);
  }

  /**
   * Builds the command tree for {@code args} under {@code root} (a {@code @Command} object that
   * mixes in {@link GlobalOptions} and declares no subcommands): the client commands, then
   * {@code more} (e.g. the server commands), with Berth's error handling and {@code ctx}'s streams.
   * Only the commands {@code args} selects are fully built (see {@link Subcommands}), so the
   * result is meant for executing those {@code args}.
   */
  public static CommandLine commandLine(Object root, CliContext ctx, List<Subcommands.Entry> more, String... args) {
    CliFactory factory = new CliFactory(ctx);
    CommandLine cl = new CommandLine(root, factory);
    List<Subcommands.Entry> all = new java.util.ArrayList<>(CLIENT_COMMANDS);
    all.addAll(more);
    Subcommands.add(cl, all, List.of(args), factory);
    // Settings last: picocli copies them only to subcommands that exist when they are set.
    PrintWriter err = ctx.err();
    cl.setOut(ctx.out());
    cl.setErr(err);
    cl.setCaseInsensitiveEnumValuesAllowed(true);
    cl.setParameterExceptionHandler((ex, badArgs) -> {
      err.println("berth: " + parameterMessage(ex));
      err.flush();
      return ExitCodes.USER_ERROR;
    });
    cl.setExecutionExceptionHandler((ex, cmd, parseResult) -> report(ex, err));
    return cl;
  }

  /**
   * Prints the one-line message for a failed command and returns its exit code. Public so
   * commands that act on several objects can report one failure and carry on with the rest.
   */
  public static int report(Exception ex, PrintWriter err) {
    int code;
    String message;
    if (ex instanceof UserException) {
      code = ExitCodes.USER_ERROR;
      message = ex.getMessage();
    } else if (ex instanceof ClusterUnavailableException) {
      code = ExitCodes.UNAVAILABLE;
      message = ex.getMessage();
    } else if (ex instanceof StatusRuntimeException sre) {
      Status status = sre.getStatus();
      String description = status.getDescription() == null
          ? status.getCode().toString().toLowerCase(java.util.Locale.ROOT).replace('_', ' ')
          : status.getDescription();
      switch (status.getCode()) {
        case UNAVAILABLE, DEADLINE_EXCEEDED -> {
          code = ExitCodes.UNAVAILABLE;
          message = "cluster unavailable: " + description;
        }
        case INVALID_ARGUMENT, NOT_FOUND, ALREADY_EXISTS, FAILED_PRECONDITION, OUT_OF_RANGE, ABORTED,
            PERMISSION_DENIED, UNAUTHENTICATED, RESOURCE_EXHAUSTED -> {
          code = ExitCodes.USER_ERROR;
          message = description;
        }
        default -> {
          code = ExitCodes.USER_ERROR;
          message = "server error (" + status.getCode() + "): " + description;
        }
      }
    } else {
      // A bug, not a user error: keep the stack for the report.
      err.println("berth: internal error: " + ex);
      ex.printStackTrace(err);
      err.flush();
      return ExitCodes.USER_ERROR;
    }
    err.println("berth: " + message);
    err.flush();
    return code;
  }

  /**
   * picocli says {@code Invalid value for option '--reserve-cpu': <why>}; Berth's style is
   * {@code --reserve-cpu: <why>}, naming the flag first.
   */
  static String parameterMessage(ParameterException ex) {
    String msg = ex.getMessage();
    if (msg.equals("Missing required subcommand")) {
      // A group ("berth service") run alone: say which subcommands there are.
      CommandLine group = ex.getCommandLine();
      List<String> names = group.getSubcommands().values().stream().distinct().map(CommandLine::getCommandName).toList();
      return "missing subcommand for '" + group.getCommandSpec().qualifiedName() + "' (one of "
          + String.join(", ", names) + ")";
    }
    ArgSpec arg = ex.getArgSpec();
    int colon = msg.indexOf(": ");
    if (arg != null && msg.startsWith("Invalid value for ") && colon > 0) {
      String name = arg instanceof OptionSpec o ? o.longestName() : ((PositionalParamSpec) arg).paramLabel();
      return name + msg.substring(colon);
    }
    return msg;
  }

  /** Version from the jar manifest (set by the build), or "dev" when run from classes. */
  public static final class Version implements IVersionProvider {
    @Override
    public String[] getVersion() {
      String v = BerthCli.class.getPackage().getImplementationVersion();
      return new String[] {"berth " + (v == null ? "dev" : v)};
    }
  }
}
