package dev.berth.cli;

import java.io.IOException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;

/**
 * Base of the command tests: each test gets a fresh CLI harness talking to a recording
 * in-process ClusterService reachable as manager {@link #M}.
 */
abstract class InProcessClusterTest {
  static final String M = "127.0.0.1:4700";
  CliHarness cli;
  FakeClusterService server;

  @BeforeEach
  void startCluster() throws IOException {
    cli = new CliHarness();
    server = cli.start(M);
  }

  @AfterEach
  void stopCluster() {
    cli.close();
  }
}
