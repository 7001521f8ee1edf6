package dev.berth.cli;

import java.util.Arrays;
import java.util.List;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.IFactory;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;

/**
 * Builds only the part of the command tree a command line uses. picocli reflects over every
 * command class it is given, which for Berth's ~30 commands cost more than the rest of a
 * {@code berth service ls} run; so only the commands on the path named by the arguments are
 * built, and their siblings are stand-ins carrying just name, aliases and description (read from
 * the {@code @Command} annotation), which is all help listings and "unknown command" errors use.
 */
public final class Subcommands {
  /**
   * One subcommand: a {@code @Command} class, or a ready object (added as it is) with its name;
   * groups list their own subcommands here instead of in {@code @Command(subcommands=...)}.
   */
  public record Entry(String name, Object command, List<Entry> children) {
    public static Entry of(Class<?> command, List<Class<?>> children) {
      return new Entry(command.getAnnotation(Command.class).name(), command,
          children.stream().map(c -> of(c, List.of())).toList());
    }

    public static Entry of(String name, Object command) {
      return new Entry(name, command, List.of());
    }

    boolean named(String token) {
      if (name.equals(token)) {
        return true;
      }
      return command instanceof Class<?> c && Arrays.asList(c.getAnnotation(Command.class).aliases()).contains(token);
    }
  }

  private Subcommands() {}

  /** Adds {@code entries} under {@code parent}, building for real only the one {@code args} selects. */
  static void add(CommandLine parent, List<Entry> entries, List<String> args, IFactory factory) {
    int at = commandToken(parent.getCommandSpec(), args);
    String selected = at < 0 ? null : args.get(at);
    for (Entry e : entries) {
      boolean chosen = e.named(selected);
      if (!chosen && e.command() instanceof Class<?> cls) {
        parent.addSubcommand(e.name(), standIn(e.name(), cls, factory));
        continue;
      }
      CommandLine sub = new CommandLine(e.command(), factory);
      if (e.command() instanceof Class<?> cls && PassesArgsThrough.class.isAssignableFrom(cls)) {
        sub.setStopAtPositional(true);
      }
      parent.addSubcommand(e.name(), sub);
      if (chosen) {
        add(sub, e.children(), args.subList(at + 1, args.size()), factory);
      }
    }
  }

  /** Index of the first argument that is not an option of {@code spec} or an option's value; -1 if none. */
  private static int commandToken(CommandSpec spec, List<String> args) {
    for (int i = 0; i < args.size(); i++) {
      String a = args.get(i);
      if (a.equals("--")) {
        return i + 1 < args.size() ? i + 1 : -1;
      }
      if (!a.startsWith("-")) {
        return i;
      }
      OptionSpec option = spec.findOption(a);
      if (option != null && !a.contains("=") && option.arity().max() > 0) {
        i++;
      }
    }
    return -1;
  }

  private static CommandLine standIn(String name, Class<?> cls, IFactory factory) {
    Command c = cls.getAnnotation(Command.class);
    CommandSpec spec = CommandSpec.create().name(name).aliases(c.aliases());
    spec.usageMessage().description(c.description()).hidden(c.hidden());
    return new CommandLine(spec, factory);
  }
}
