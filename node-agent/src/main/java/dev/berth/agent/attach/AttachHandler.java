package dev.berth.agent.attach;

import dev.berth.agent.task.TaskExecutor;
import dev.berth.api.v1.ManagerMessage;
import io.grpc.Channel;
import java.time.Duration;
import java.util.concurrent.Executor;

/**
 * The agent's side of {@code berth service logs} and {@code berth exec}: the leader asks over the Session
 * (a {@code LogRequest} or {@code ExecRequest}); this starts a {@link LogPublisher} or {@link ExecRelay} on a
 * worker thread, which opens the matching RPC back to the same manager. Requests are independent; each
 * holds its worker until its call ends.
 *
 * <p>Thread model: {@link #handle} is called on the session's event loop and never blocks it.
 */
public final class AttachHandler {
    private final TaskExecutor executor;
    private final Executor workers;
    private final Duration pollEvery;

    /** @param pollEvery how often followed logs are checked for new lines */
    public AttachHandler(TaskExecutor executor, Executor workers, Duration pollEvery) {
        this.executor = executor;
        this.workers = workers;
        this.pollEvery = pollEvery;
    }

    /** Starts serving a log or exec request from the manager reachable through {@code channel}. */
    public void handle(ManagerMessage m, Channel channel) {
        switch (m.getMsgCase()) {
            case LOG_REQUEST -> workers.execute(new LogPublisher(m.getLogRequest(), executor, channel, pollEvery));
            case EXEC_REQUEST -> workers.execute(new ExecRelay(m.getExecRequest(), executor, channel, workers));
            default -> throw new IllegalArgumentException("not a log or exec request: " + m.getMsgCase());
        }
    }
}
