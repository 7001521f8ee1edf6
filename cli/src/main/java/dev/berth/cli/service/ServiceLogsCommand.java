package dev.berth.cli.service;

import dev.berth.api.v1.ListRequest;
import dev.berth.api.v1.LogChunk;
import dev.berth.api.v1.LogStream;
import dev.berth.api.v1.Node;
import dev.berth.api.v1.ServiceLogsRequest;
import dev.berth.cli.ApiClient;
import dev.berth.cli.ApiCommand;
import dev.berth.cli.CliContext;
import dev.berth.cli.ExitCodes;
import dev.berth.cli.UserException;
import java.io.PrintWriter;
import java.time.Instant;
import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code berth service logs SERVICE [-f] [--tail N] [--timestamps]}: the output of every task of the service,
 * as {@code docker service logs} prints it: {@code NAME.SLOT.TASK@NODE    | line}, stdout lines on stdout and
 * stderr lines on stderr. Notes from the manager (a node that is down) go to stderr. With {@code -f} it runs
 * until interrupted; the manager then stops the agents' readers.
 */
@Command(name = "logs", description = "Show the output of a service's tasks.")
public final class ServiceLogsCommand extends ApiCommand {
  @Parameters(paramLabel = "SERVICE", description = "Service name or id.")
  String service;

  @Option(names = {"-f", "--follow"}, description = "Keep printing new output until interrupted.")
  boolean follow;

  @Option(names = {"-n", "--tail"}, paramLabel = "N", description = "Only the last N lines of each task (default: all).")
  Long tail;

  @Option(names = {"-t", "--timestamps"}, description = "Show when each line was written.")
  boolean timestamps;

  @Option(names = "--no-trunc", description = "Do not shorten task ids.")
  boolean noTrunc;

  ServiceLogsCommand(CliContext ctx) {
    super(ctx);
  }

  @Override
  protected int run(ApiClient api) {
    if (tail != null && tail < 0) {
      throw new UserException("--tail: must be 0 or more");
    }
    ServiceLogsRequest.Builder req = ServiceLogsRequest.newBuilder().setService(service).setFollow(follow);
    if (tail != null) {
      req.setTail(tail);
    }
    Map<String, String> hostnames = new HashMap<>();
    for (Node n : api.read(s -> s.listNodes(ListRequest.getDefaultInstance())).getNodesList()) {
      hostnames.put(n.getMeta().getId(), n.getDescription().getHostname());
    }
    Iterator<LogChunk> chunks = api.stream(s -> {
      Iterator<LogChunk> it = s.serviceLogs(req.build());
      return Peeked.of(it); // a follower's refusal arrives before any line: the client moves on
    });
    while (chunks.hasNext()) {
      print(chunks.next(), hostnames);
    }
    return ExitCodes.OK;
  }

  private void print(LogChunk c, Map<String, String> hostnames) {
    String node = hostnames.getOrDefault(c.getNodeId(), Ids.shortId(c.getNodeId()));
    String prefix = service + "." + c.getSlot() + "." + (noTrunc ? c.getTaskId() : Ids.shortId(c.getTaskId()))
        + "@" + node;
    if (!c.getNote().isEmpty()) {
      ctx.err().println(prefix + ": " + c.getNote());
      ctx.err().flush();
      return;
    }
    PrintWriter w = c.getStream() == LogStream.STDERR ? ctx.err() : ctx.out();
    String time = timestamps ? Instant.ofEpochSecond(0, c.getTimeUnixNanos()) + " " : "";
    w.println(prefix + "    | " + time + c.getText());
    w.flush();
  }

  /** An iterator whose first element (or end, or error) has been read already. */
  private static final class Peeked<T> implements Iterator<T> {
    private final Iterator<T> rest;
    private T first;
    private boolean hasFirst;

    private Peeked(Iterator<T> rest) {
      this.rest = rest;
    }

    static <T> Peeked<T> of(Iterator<T> it) {
      Peeked<T> p = new Peeked<>(it);
      p.hasFirst = it.hasNext();
      p.first = p.hasFirst ? it.next() : null;
      return p;
    }

    @Override
    public boolean hasNext() {
      return hasFirst || rest.hasNext();
    }

    @Override
    public T next() {
      if (hasFirst) {
        hasFirst = false;
        return first;
      }
      return rest.next();
    }
  }
}
