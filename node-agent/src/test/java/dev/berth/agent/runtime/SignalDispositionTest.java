package dev.berth.agent.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Container processes start with every signal at its default and none blocked, as under runc,
 * although the launcher's server and monitors ignore SIGPIPE: an ignored disposition would
 * otherwise survive into the container across exec.
 */
class SignalDispositionTest {
  private static final String CLEAN = "SigBlk:\t0000000000000000\nSigIgn:\t0000000000000000";
  private static final String PIPE = "set -o pipefail; yes | head -n1; echo pipe=$?";
  private RuntimeFixture f;

  @BeforeEach
  void setUp() throws Exception {
    RuntimeFixture.assumeHost();
    f = new RuntimeFixture("sig");
  }

  @AfterEach
  void tearDown() throws Exception {
    if (f != null) {
      f.close();
    }
  }

  @Test
  void theMainProcessStartsWithNoSignalIgnoredOrBlocked() {
    // grep itself is the main process: /proc/self is what the launcher handed over at exec
    f.start(f.config("status", s -> s.addCommand("grep").addArgs("-E").addArgs("^Sig(Blk|Ign)").addArgs("/proc/self/status")));
    assertThat(f.runtime.awaitExit("status", Duration.ofSeconds(30)).orElseThrow().exitCode()).isZero();
    assertThat(f.stdout("status")).isEqualTo(CLEAN);
  }

  @Test
  void aWriterToAClosedPipeIsKilledBySigpipeNotToldOfAWriteError() {
    ExitStatus exit = f.runScript("pipe", PIPE);
    assertThat(exit.exitCode()).isZero();
    // 141 = 128 + SIGPIPE; with SIGPIPE ignored, yes would see EPIPE, complain and exit 1
    assertThat(f.stdout("pipe")).isEqualTo("y\npipe=141");
    assertThat(f.runtime.logs("pipe")).filteredOn(l -> l.stream().equals("stderr")).isEmpty();
  }

  @Test
  void execStartsItsCommandWithNoSignalIgnoredOrBlocked() {
    f.start(f.config("svc", s -> s.addCommand("sleep").addArgs("600")));
    ExecResult status = f.runtime.exec("svc", List.of("grep", "-E", "^Sig(Blk|Ign)", "/proc/self/status"), Duration.ofSeconds(20));
    assertThat(status.exitCode()).as(status.stderr()).isZero();
    assertThat(status.stdout().strip()).isEqualTo(CLEAN);
    ExecResult pipe = f.runtime.exec("svc", List.of("sh", "-c", PIPE), Duration.ofSeconds(20));
    assertThat(pipe.stdout().strip()).isEqualTo("y\npipe=141");
    assertThat(pipe.stderr()).isEmpty();
  }
}
