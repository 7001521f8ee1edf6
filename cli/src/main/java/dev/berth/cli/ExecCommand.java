package dev.berth.cli;

import com.google.protobuf.ByteString;
import dev.berth.api.v1.ExecInput;
import dev.berth.api.v1.ExecOutput;
import dev.berth.api.v1.ExecStart;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code berth exec [-i] TASK [--] CMD...}: runs a command in a running task's container through the leader
 * and the task's agent, relays its output (and with {@code -i} this process's stdin), and exits with the
 * command's exit code. An unknown or not running task fails with the manager's message naming it.
 */
@Command(name = "exec", description = "Run a command in a running task's container.")
public final class ExecCommand extends ApiCommand implements PassesArgsThrough {
  @Option(names = {"-i", "--interactive"}, description = "Send this terminal's standard input to the command.")
  boolean interactive;

  @Parameters(index = "0", paramLabel = "TASK", description = "Task id (or a unique prefix of it).")
  String task;

  @Parameters(index = "1..*", arity = "1..*", paramLabel = "CMD", description = "The command and its arguments.")
  List<String> command = new ArrayList<>();

  ExecCommand(CliContext ctx) {
    super(ctx);
  }

  /** What one attempt's call delivers: output chunks, then the end (exit code or error). */
  private record Event(ExecOutput output, Throwable error, boolean completed) {}

  @Override
  protected int run(ApiClient api) {
    List<String> argv = !command.isEmpty() && command.get(0).equals("--") ? command.subList(1, command.size()) : command;
    if (argv.isEmpty()) {
      throw new UserException("exec: no command given after the task");
    }
    ExecInput start = ExecInput.newBuilder().setStart(ExecStart.newBuilder().setTask(task).addAllArgv(argv)).build();
    LinkedBlockingQueue<Event> events = new LinkedBlockingQueue<>();
    ClientCallStreamObserver<ExecInput> call = api.streamAsync(stub -> {
      events.clear();
      CompletableFuture<ClientCallStreamObserver<ExecInput>> requests = new CompletableFuture<>();
      stub.exec(new ClientResponseObserver<ExecInput, ExecOutput>() {
        @Override
        public void beforeStart(ClientCallStreamObserver<ExecInput> r) {
          requests.complete(r);
        }

        @Override
        public void onNext(ExecOutput o) {
          events.add(new Event(o, null, false));
        }

        @Override
        public void onError(Throwable t) {
          events.add(new Event(null, t, false));
        }

        @Override
        public void onCompleted() {
          events.add(new Event(null, null, true));
        }
      });
      ClientCallStreamObserver<ExecInput> r = requests.join();
      r.onNext(start);
      Event first = take(events);
      if (first.error() != null) {
        throw first.error() instanceof StatusRuntimeException sre ? sre : Status.fromThrowable(first.error()).asRuntimeException();
      }
      events.add(first); // the "started" message (or the end): handled below with the rest
      return r;
    });
    if (interactive) {
      Thread pump = new Thread(() -> pumpStdin(ctx.in(), call), "berth-exec-stdin");
      pump.setDaemon(true);
      pump.start();
    } else {
      call.onNext(ExecInput.newBuilder().setCloseStdin(true).build());
    }
    OutputStream out = ctx.rawOut();
    OutputStream err = ctx.rawErr();
    while (true) {
      Event e = take(events);
      if (e.error() != null) {
        throw Status.fromThrowable(e.error()).asRuntimeException();
      }
      if (e.completed()) {
        throw new UserException("exec: the manager ended the call without the command's exit code");
      }
      try {
        e.output().getStdout().writeTo(out);
        e.output().getStderr().writeTo(err);
        out.flush();
        err.flush();
      } catch (IOException io) {
        call.cancel("cannot write output: " + io.getMessage(), io);
        throw new UserException("exec: writing output: " + io.getMessage());
      }
      if (e.output().getExited()) {
        return e.output().getExitCode();
      }
    }
  }

  private static Event take(LinkedBlockingQueue<Event> events) {
    try {
      return events.take();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new UserException("exec: interrupted");
    }
  }

  private static void pumpStdin(InputStream in, ClientCallStreamObserver<ExecInput> call) {
    byte[] buf = new byte[16 << 10];
    try {
      for (int n; (n = in.read(buf)) >= 0; ) {
        synchronized (call) {
          call.onNext(ExecInput.newBuilder().setStdin(ByteString.copyFrom(buf, 0, n)).build());
        }
      }
    } catch (IOException | RuntimeException e) {
      // stdin unreadable or the call is over: either way no more input
    }
    try {
      synchronized (call) {
        call.onNext(ExecInput.newBuilder().setCloseStdin(true).build());
        call.onCompleted();
      }
    } catch (RuntimeException over) {
      // the call ended first
    }
  }
}
