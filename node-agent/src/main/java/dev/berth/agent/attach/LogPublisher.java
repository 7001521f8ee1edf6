package dev.berth.agent.attach;

import dev.berth.agent.runtime.LogLine;
import dev.berth.agent.runtime.LogReader;
import dev.berth.agent.task.TaskExecutor;
import dev.berth.api.v1.AgentServiceGrpc;
import dev.berth.api.v1.LogChunk;
import dev.berth.api.v1.LogPublish;
import dev.berth.api.v1.LogPublishAck;
import dev.berth.api.v1.LogRequest;
import dev.berth.api.v1.LogStream;
import io.grpc.Channel;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Serves one {@link LogRequest}: opens {@code PublishLogs} back to the manager, sends the kept lines of each
 * requested task (the last {@code tail} of them), and with {@code follow} polls the logs for new lines until
 * the manager ends the call (its client went away) or the channel breaks. Every reader is closed then.
 *
 * <p>Thread model: {@link #run} blocks its (worker) thread for the request's lifetime; gRPC callbacks only
 * set a flag. Errors: a task whose log cannot be opened or read gets a chunk with a note naming the task; the other tasks carry on.
 */
final class LogPublisher implements Runnable {
    private static final int BATCH = 256;

    private final LogRequest request;
    private final TaskExecutor executor;
    private final Channel channel;
    private final Duration pollEvery;
    private volatile boolean ended;
    private ClientCallStreamObserver<LogPublish> call;

    LogPublisher(LogRequest request, TaskExecutor executor, Channel channel, Duration pollEvery) {
        this.request = request;
        this.executor = executor;
        this.channel = channel;
        this.pollEvery = pollEvery;
    }

    @Override
    public void run() {
        call = (ClientCallStreamObserver<LogPublish>) AgentServiceGrpc.newStub(channel).publishLogs(new StreamObserver<>() {
            @Override
            public void onNext(LogPublishAck ack) {
            }

            @Override
            public void onError(Throwable t) {
                ended = true;
            }

            @Override
            public void onCompleted() {
                ended = true;
            }
        });
        send(LogPublish.newBuilder().setRequestId(request.getRequestId()).build());
        Map<String, LogReader> readers = new LinkedHashMap<>();
        try {
            for (String taskId : request.getTaskIdsList()) {
                try {
                    LogReader r = executor.openLog(taskId);
                    readers.put(taskId, r);
                    List<LogLine> kept = r.existing();
                    long tail = request.hasTail() ? Math.max(0, request.getTail()) : kept.size();
                    publish(taskId, kept.subList((int) Math.max(0, kept.size() - tail), kept.size()));
                } catch (Exception e) {
                    readers.remove(taskId);
                    note(taskId, e);
                }
            }
            while (request.getFollow() && !ended) {
                sleep(pollEvery);
                for (Map.Entry<String, LogReader> r : List.copyOf(readers.entrySet())) {
                    try {
                        publish(r.getKey(), r.getValue().poll());
                    } catch (Exception e) {
                        readers.remove(r.getKey());
                        note(r.getKey(), e);
                    }
                }
            }
            if (!ended) {
                call.onCompleted();
            }
        } finally {
            for (LogReader r : readers.values()) {
                try {
                    r.close();
                } catch (Exception ignored) {
                    // a reader that cannot close holds at most a file descriptor of a removed file
                }
            }
        }
    }

    private void note(String taskId, Exception e) {
        send(LogPublish.newBuilder().addChunks(LogChunk.newBuilder().setTaskId(taskId)
                .setNote("task " + taskId + ": logs unavailable: " + e.getMessage())).build());
    }

    private void publish(String taskId, List<LogLine> lines) {
        for (int from = 0; from < lines.size() && !ended; from += BATCH) {
            LogPublish.Builder b = LogPublish.newBuilder();
            for (LogLine l : lines.subList(from, Math.min(lines.size(), from + BATCH))) {
                b.addChunks(LogChunk.newBuilder().setTaskId(taskId).setText(l.text())
                        .setStream("stderr".equals(l.stream()) ? LogStream.STDERR : LogStream.STDOUT)
                        .setTimeUnixNanos(l.time().getEpochSecond() * 1_000_000_000L + l.time().getNano()));
            }
            send(b.build());
        }
    }

    /** Sends unless the call has ended; waits (bounded by the call's end) while gRPC's buffer is full. */
    private void send(LogPublish m) {
        while (!ended && !call.isReady()) {
            sleep(Duration.ofMillis(10));
        }
        if (ended) {
            return;
        }
        try {
            call.onNext(m);
        } catch (RuntimeException e) {
            ended = true; // cancelled meanwhile
        }
    }

    private void sleep(Duration d) {
        try {
            Thread.sleep(d.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            ended = true;
            call.cancel("agent stopping", null);
        }
    }
}
