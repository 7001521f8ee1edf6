package dev.berth.manager.api;

import dev.berth.internal.v1.ApplyResult;
import dev.berth.manager.store.ApplyException;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeoutException;

/** Maps apply outcomes and Raft failures to gRPC statuses. */
final class Errors {
  private Errors() {}

  static StatusRuntimeException of(ApplyResult r) {
    Status.Code code;
    try {
      code = Status.Code.valueOf(r.getCode());
    } catch (IllegalArgumentException e) {
      code = Status.Code.INTERNAL;
    }
    return code.toStatus().withDescription(r.getMessage()).asRuntimeException();
  }

  static StatusRuntimeException of(ApplyException e) {
    return of(ApplyResult.newBuilder().setCode(e.code()).setMessage(e.getMessage()).build());
  }

  static StatusRuntimeException notFound(String message) {
    return Status.NOT_FOUND.withDescription(message).asRuntimeException();
  }

  static StatusRuntimeException invalid(String message) {
    return Status.INVALID_ARGUMENT.withDescription(message).asRuntimeException();
  }

  /** The outcome is unknown (no leader, no quorum, timeout): the caller may retry with the same request id. */
  static StatusRuntimeException unavailable(Throwable t, String leaderAddr) {
    Throwable cause = t;
    while ((cause instanceof CompletionException || cause instanceof ExecutionException)
        && cause.getCause() != null) {
      cause = cause.getCause();
    }
    if (cause instanceof StatusRuntimeException sre) {
      return sre;
    }
    String what = cause instanceof TimeoutException ? "timed out waiting for the cluster"
        : "cluster unavailable: " + cause.getClass().getSimpleName()
            + (cause.getMessage() == null ? "" : ": " + firstLine(cause.getMessage()));
    String hint = leaderAddr.isEmpty() ? " (no leader known)" : " (leader: " + leaderAddr + ")";
    return Status.UNAVAILABLE.withDescription(what + hint).asRuntimeException();
  }

  private static String firstLine(String s) {
    int nl = s.indexOf('\n');
    return nl < 0 ? s : s.substring(0, nl);
  }
}
