package dev.berth.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.cli.node.NodeCommand;
import dev.berth.cli.service.ServiceCommand;
import dev.berth.cli.service.ServiceCreateCommand;
import dev.berth.cli.service.ServiceLsCommand;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** Only the commands a command line names are built; the others are stand-ins with name and description. */
class SubcommandsTest {
  private static CommandLine tree(String... args) {
    CliContext ctx = new CliContext(new PrintWriter(new StringWriter()), new PrintWriter(new StringWriter()),
        Clock.systemUTC(), Map.of(), t -> {
          throw new AssertionError("no channel expected");
        }, CliContext.defaultSettings(d -> { }));
    return BerthCli.commandLine(new BerthCli(), ctx, List.of(), args);
  }

  private static Object command(CommandLine cl, String... path) {
    for (String p : path) {
      cl = cl.getSubcommands().get(p);
    }
    return cl.getCommandSpec().userObject();
  }

  @Test
  void onlyTheSelectedPathIsBuilt() {
    CommandLine cl = tree("--manager", "h:1", "service", "--manager=h:2", "ls", "--format", "json");
    assertThat(command(cl, "service")).isInstanceOf(ServiceCommand.class);
    assertThat(command(cl, "service", "ls")).isInstanceOf(ServiceLsCommand.class);
    assertThat(command(cl, "service", "list")).isInstanceOf(ServiceLsCommand.class);
    assertThat(command(cl, "service", "create")).isNull();
    assertThat(command(cl, "node")).isNull();
    assertThat(cl.getSubcommands().get("node").getCommandSpec().usageMessage().description())
        .containsExactly("Manage nodes.");
  }

  @Test
  void aGroupWithoutASubcommandListsStandInsForAllOfThem() {
    CommandLine cl = tree("service", "--help");
    assertThat(cl.getSubcommands().get("service").getSubcommands().keySet())
        .containsExactly("create", "ls", "list", "ps", "inspect", "logs", "update", "scale", "rm", "remove");
    assertThat(command(cl, "service", "ps")).isNull();
    assertThat(command(tree("node", "ls"), "node")).isInstanceOf(NodeCommand.class);
  }

  @Test
  void serviceCreateStopsParsingOptionsAfterTheImage() {
    CommandLine cl = tree("service", "create", "nginx", "--replicas", "3");
    assertThat(command(cl, "service", "create")).isInstanceOf(ServiceCreateCommand.class);
    assertThat(cl.getSubcommands().get("service").getSubcommands().get("create").isStopAtPositional()).isTrue();
    assertThat(cl.getSubcommands().get("service").isStopAtPositional()).isFalse();
  }
}
