package dev.berth.manager.api;

import dev.berth.api.v1.ObjectKind;
import dev.berth.api.v1.WatchEvent;
import dev.berth.api.v1.WatchRequest;
import dev.berth.manager.image.RegistryAuthRedaction;
import dev.berth.manager.store.ChangeLog;
import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.util.EnumSet;
import java.util.Set;
import java.util.concurrent.ExecutorService;

/**
 * Serves {@code Watch} streams from the {@link ChangeLog}: events after {@code from_index}
 * in log order, whole entries at a time, never skipping or repeating (the cursor is the
 * last fully sent index). When nothing changes a progress event reports the applied index
 * (the client may resume from it). A position below the log's floor fails with
 * OUT_OF_RANGE so the client re-lists; a position ahead of this manager waits.
 *
 * <p>Thread model: one pooled thread per open stream; it stops when the call is cancelled.
 */
public final class WatchHandler {
  private static final int BATCH = 512;
  private final ChangeLog changes;
  private final ExecutorService executor;
  private final long progressIntervalMs;

  public WatchHandler(ChangeLog changes, ExecutorService executor, long progressIntervalMs) {
    this.changes = changes;
    this.executor = executor;
    this.progressIntervalMs = progressIntervalMs;
  }

  void start(WatchRequest req, StreamObserver<WatchEvent> obs) {
    ServerCallStreamObserver<WatchEvent> call = (ServerCallStreamObserver<WatchEvent>) obs;
    Set<ObjectKind> kinds = req.getKindsCount() == 0 ? EnumSet.allOf(ObjectKind.class)
        : EnumSet.copyOf(req.getKindsList());
    long from = req.getFromIndex() == 0 ? changes.appliedIndex() : req.getFromIndex();
    executor.execute(() -> stream(call, kinds, from));
  }

  private void stream(ServerCallStreamObserver<WatchEvent> call, Set<ObjectKind> kinds, long from) {
    long cursor = from;
    try {
      while (!call.isCancelled()) {
        ChangeLog.Batch batch = changes.read(cursor, BATCH, progressIntervalMs);
        if (batch.events().isEmpty()) {
          if (batch.appliedIndex() >= cursor) {
            cursor = batch.appliedIndex();
            send(call, WatchEvent.newBuilder().setIndex(cursor).setProgress(true).build());
          }
          continue;
        }
        for (WatchEvent e : batch.events()) {
          if (kinds.contains(e.getKind())) {
            send(call, RegistryAuthRedaction.redact(e));
          }
        }
        cursor = batch.events().get(batch.events().size() - 1).getIndex();
      }
    } catch (ChangeLog.CompactedException e) {
      call.onError(Status.OUT_OF_RANGE.withDescription("from_index " + cursor + ": "
          + e.getMessage()).asRuntimeException());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      call.onError(Status.UNAVAILABLE.withDescription("manager shutting down").asRuntimeException());
    } catch (RuntimeException e) {
      if (!call.isCancelled()) {
        call.onError(Status.INTERNAL.withDescription(String.valueOf(e)).asRuntimeException());
      }
    }
  }

  /** Sends one event, pausing while the client's flow-control window is full. */
  private static void send(ServerCallStreamObserver<WatchEvent> call, WatchEvent e)
      throws InterruptedException {
    while (!call.isReady() && !call.isCancelled()) {
      Thread.sleep(5);
    }
    if (!call.isCancelled()) {
      call.onNext(e);
    }
  }
}
