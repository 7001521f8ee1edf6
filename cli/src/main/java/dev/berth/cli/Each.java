package dev.berth.cli;

import io.grpc.StatusRuntimeException;
import java.util.List;
import java.util.function.Consumer;

/**
 * Runs one action per named object ({@code berth service rm a b c}), as Docker does: a failure
 * on one object is reported and the rest still run; the exit code is the worst seen. A cluster
 * that cannot be reached stops the loop at once (the next object would fail the same way).
 */
public final class Each {
  private Each() {}

  public static int run(CliContext ctx, List<String> names, Consumer<String> action) {
    int code = ExitCodes.OK;
    for (String name : names) {
      try {
        action.accept(name);
      } catch (UserException | StatusRuntimeException e) {
        code = Math.max(code, BerthCli.report(e, ctx.err()));
      }
    }
    return code;
  }
}
