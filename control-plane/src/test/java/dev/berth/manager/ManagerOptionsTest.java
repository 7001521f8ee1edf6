package dev.berth.manager;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.manager.dispatcher.DispatcherConfig;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** The serve options' dispatcher settings, as `berth manager init|join|run` parse them. */
class ManagerOptionsTest {
  private static ManagerCommand.ServeOptions parse(String... args) {
    ManagerCommand.Init init = new ManagerCommand.Init();
    new CommandLine(init).parseArgs(args);
    return init.opts;
  }

  @Test
  void theHeartbeatDefaultsToOneSecondAndAFlagSetsItAndTheGraceThatFollows() {
    DispatcherConfig defaults = parse().dispatcher();
    assertThat(defaults.heartbeatPeriodMs()).isEqualTo(1000);
    assertThat(defaults.graceMs()).isEqualTo(5000);

    DispatcherConfig slow = parse("--dispatcher-heartbeat-ms", "250").dispatcher();
    assertThat(slow.heartbeatPeriodMs()).isEqualTo(250);
    assertThat(slow.graceMs()).isEqualTo(250L * DispatcherConfig.DEFAULT_MISSED_HEARTBEATS);
    assertThat(slow.batchMaxDelayMs()).as("the other settings stay").isEqualTo(defaults.batchMaxDelayMs());
  }

  @Test
  void aHeartbeatBelowOneMillisecondIsRefusedNamingTheFlag() {
    assertThatThrownBy(() -> parse("--dispatcher-heartbeat-ms", "0").dispatcher())
        .isInstanceOf(CommandLine.ParameterException.class)
        .hasMessageContaining("--dispatcher-heartbeat-ms must be at least 1 (was 0)");
  }
}
