package dev.berth.testkit;

import com.google.protobuf.ByteString;
import dev.berth.api.v1.ClusterServiceGrpc;
import dev.berth.api.v1.ExecInput;
import dev.berth.api.v1.ExecOutput;
import dev.berth.api.v1.ExecStart;
import io.grpc.Channel;
import io.grpc.stub.StreamObserver;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/** One {@code Exec} call made by a test: its stdout collected, and its exit code (or error) when it ends. */
final class ExecCall implements StreamObserver<ExecOutput> {
  final StringBuilder stdout = new StringBuilder();
  final CompletableFuture<Integer> exit = new CompletableFuture<>();

  /** Starts {@code argv} in {@code task} through the manager at {@code channel}, sends {@code stdin} and its end. */
  static ExecCall start(Channel channel, String task, String stdin, String... argv) {
    ExecCall call = new ExecCall();
    StreamObserver<ExecInput> in = ClusterServiceGrpc.newStub(channel).exec(call);
    in.onNext(ExecInput.newBuilder().setStart(ExecStart.newBuilder().setTask(task).addAllArgv(List.of(argv))).build());
    in.onNext(ExecInput.newBuilder().setStdin(ByteString.copyFromUtf8(stdin)).build());
    in.onNext(ExecInput.newBuilder().setCloseStdin(true).build());
    return call;
  }

  @Override
  public synchronized void onNext(ExecOutput o) {
    stdout.append(o.getStdout().toStringUtf8());
    if (o.getExited()) {
      exit.complete(o.getExitCode());
    }
  }

  @Override
  public void onError(Throwable t) {
    exit.completeExceptionally(t);
  }

  @Override
  public void onCompleted() {
    exit.complete(null);
  }
}
