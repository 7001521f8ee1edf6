package dev.berth.cli;

import com.google.protobuf.MessageOrBuilder;
import dev.berth.api.v1.ClusterServiceGrpc.ClusterServiceBlockingStub;
import dev.berth.api.v1.GetRequest;
import dev.berth.cli.format.Json;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.function.BiFunction;

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

  /**
   * The {@code inspect} verbs: reads each id or name with {@code get} and prints them as one JSON
   * array, as {@code docker inspect} does.
   */
  protected final <T extends MessageOrBuilder> int inspect(ApiClient api, List<String> ids,
      BiFunction<ClusterServiceBlockingStub, GetRequest, T> get) {
    List<T> found = new ArrayList<>();
    for (String id : ids) {
      GetRequest request = GetRequest.newBuilder().setId(id).build();
      found.add(api.read(stub -> get.apply(stub, request)));
    }
    Json.printArray(ctx.out(), found);
    return ExitCodes.OK;
  }
}
