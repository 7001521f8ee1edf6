package dev.berth.cli;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Option;
import picocli.CommandLine.ScopeType;

/**
 * Options every client command accepts, before or after the subcommand name
 * ({@code berth --manager m1:4700 service ls} or {@code berth service ls --manager m1:4700}).
 * One instance per {@link CliContext}; picocli writes into it while parsing.
 */
public final class GlobalOptions {
  /** Where a client finds the cluster when neither the flag nor the environment says. */
  public static final String DEFAULT_MANAGER = "127.0.0.1:4700";
  public static final String MANAGER_ENV = "BERTH_MANAGER";

  @Option(
      names = "--manager",
      scope = ScopeType.INHERIT,
      paramLabel = "HOST:PORT[,HOST:PORT...]",
      description = "Manager(s) to contact, tried in order (default: $" + MANAGER_ENV + " or " + DEFAULT_MANAGER + ").")
  String manager;

  /** The managers to try, in order: the flag, else the environment, else the default. */
  public List<String> managers(Map<String, String> env) {
    String source = "--manager";
    String value = manager;
    if (value == null || value.isBlank()) {
      value = env.get(MANAGER_ENV);
      source = MANAGER_ENV;
    }
    if (value == null || value.isBlank()) {
      return List.of(DEFAULT_MANAGER);
    }
    List<String> out = new ArrayList<>();
    for (String part : value.split(",")) {
      String addr = part.trim();
      if (!addr.isEmpty()) {
        out.add(checkAddress(source, addr));
      }
    }
    if (out.isEmpty()) {
      throw UserException.field(source, "no manager address in '" + value + "'");
    }
    return out;
  }

  private static String checkAddress(String source, String addr) {
    int colon = addr.lastIndexOf(':');
    boolean bracketed = addr.startsWith("[");
    if (colon <= 0 || colon == addr.length() - 1 || (bracketed && addr.charAt(colon - 1) != ']')
        || (!bracketed && addr.indexOf(':') != colon)) {
      throw UserException.field(source, "'" + addr + "' is not HOST:PORT");
    }
    try {
      int port = Integer.parseInt(addr.substring(colon + 1));
      if (port < 1 || port > 65535) {
        throw UserException.field(source, "port of '" + addr + "' must be 1..65535");
      }
    } catch (NumberFormatException e) {
      throw UserException.field(source, "'" + addr + "' is not HOST:PORT");
    }
    return addr;
  }
}
