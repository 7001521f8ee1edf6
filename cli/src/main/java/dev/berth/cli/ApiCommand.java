package dev.berth.cli;

import java.util.concurrent.Callable;

/**
 * Base of every command that talks to the cluster: opens an {@link ApiClient} for the duration of
 * {@link #run}, and closes it after. Errors are thrown ({@link UserException},
 * {@link ClusterUnavailableException}, {@code StatusRuntimeException}) and turned into a message
 * and exit code by {@link BerthCli}.
 */
public abstract class ApiCommand implements Callable<Integer> {
  protected final CliContext ctx;

  protected ApiCommand(CliContext ctx) {
    this.ctx = ctx;
  }

  @Override
  public final Integer call() {
    try (ApiClient api = ctx.connect()) {
      return run(api);
    }
  }

  /** Does the command's work; returns the exit code. */
  protected abstract int run(ApiClient api);
}
