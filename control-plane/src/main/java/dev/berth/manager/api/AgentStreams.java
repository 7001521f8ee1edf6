package dev.berth.manager.api;

import dev.berth.api.v1.ExecInput;
import dev.berth.api.v1.ExecOutput;
import dev.berth.api.v1.LogChunk;
import dev.berth.api.v1.Task;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.util.List;
import java.util.OptionalLong;

/**
 * What the public API needs from the agents' side for {@code ServiceLogs} and {@code Exec}: the leader asks
 * the agents that run the tasks and relays their streams to the caller (implemented by the dispatcher, which
 * holds the agents' sessions).
 *
 * <p>Thread model: called from gRPC threads. Error contract: never throws for a node problem; a task whose
 * node is not connected or does not answer gets a note (logs) or a status naming the node (exec).
 */
public interface AgentStreams {
  /** Whether this manager holds the agents' sessions now (it is the leader). */
  boolean serving();

  /**
   * Streams the logs of {@code tasks} (each with its node id) to {@code out}: the last {@code tail} lines of
   * each, then with {@code follow} new lines until the caller cancels; without it, completes when every node
   * has sent its lines.
   */
  void logs(List<Task> tasks, boolean follow, OptionalLong tail, ServerCallStreamObserver<LogChunk> out);

  /**
   * Runs {@code argv} in the running {@code task}'s container; output and the final exit code go to
   * {@code out}. Returns where the caller's further input (stdin, close_stdin) goes; its {@code onError}
   * means the caller went away.
   */
  StreamObserver<ExecInput> exec(Task task, List<String> argv, ServerCallStreamObserver<ExecOutput> out);
}
