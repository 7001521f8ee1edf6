package dev.berth.cli;

import io.grpc.ManagedChannel;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import java.util.UUID;
import java.util.function.Function;

/**
 * What client commands get from their surroundings: output streams, the clock used to render
 * "5 seconds ago", the environment, and how to open channels to managers. Tests build one with
 * an in-process channel factory, a fixed clock and string writers; {@link #system()} is the real
 * thing. One per command-line invocation; not thread-safe.
 */
public final class CliContext {
  private final PrintWriter out;
  private final PrintWriter err;
  private final Clock clock;
  private final Map<String, String> env;
  private final Function<String, ManagedChannel> channelFactory;
  private final ApiClient.Settings settings;
  private final GlobalOptions globalOptions = new GlobalOptions();
  private InputStream in = InputStream.nullInputStream();
  private OutputStream rawOut;
  private OutputStream rawErr;

  public CliContext(PrintWriter out, PrintWriter err, Clock clock, Map<String, String> env,
      Function<String, ManagedChannel> channelFactory, ApiClient.Settings settings) {
    this.out = out;
    this.err = err;
    this.clock = clock;
    this.env = Map.copyOf(env);
    this.channelFactory = channelFactory;
    this.settings = settings;
  }

  /** The process's streams, clock and environment; plaintext Netty channels; bounded retries. */
  public static CliContext system() {
    return withStreams(System.in, System.out, System.err, new CliContext(
        new PrintWriter(new java.io.OutputStreamWriter(System.out, StandardCharsets.UTF_8), true),
        new PrintWriter(new java.io.OutputStreamWriter(System.err, StandardCharsets.UTF_8), true),
        Clock.systemUTC(),
        System.getenv(),
        Channels::plaintext,
        defaultSettings(Sleeper.SYSTEM)));
  }

  /**
   * Gives {@code ctx} byte streams ({@code berth exec} relays the command's bytes as they are): standard
   * input, and outputs that bypass the writers (which are flushed first). Without them, input is empty
   * and output bytes go to the writers decoded as UTF-8.
   */
  public static CliContext withStreams(InputStream in, OutputStream out, OutputStream err, CliContext ctx) {
    ctx.in = in;
    ctx.rawOut = out;
    ctx.rawErr = err;
    return ctx;
  }

  public InputStream in() {
    return in;
  }

  /** Raw standard output (see {@link #withStreams}). */
  public OutputStream rawOut() {
    out.flush();
    return rawOut != null ? rawOut : decoding(out);
  }

  /** Raw standard error (see {@link #withStreams}). */
  public OutputStream rawErr() {
    err.flush();
    return rawErr != null ? rawErr : decoding(err);
  }

  private static OutputStream decoding(PrintWriter w) {
    return new OutputStream() {
      @Override
      public void write(int b) {
        write(new byte[] {(byte) b}, 0, 1);
      }

      @Override
      public void write(byte[] b, int off, int len) {
        w.write(new String(b, off, len, StandardCharsets.UTF_8));
      }

      @Override
      public void flush() {
        w.flush();
      }
    };
  }

  /**
   * Five rounds, 100 ms doubling to 1 s between them (~1.5 s in all): enough to ride out a leader
   * election (~0.4 s measured), short enough for a person waiting at a prompt. Each manager gets
   * {@link GlobalOptions#DEFAULT_MANAGER_TIMEOUT} to answer before the next one is tried.
   */
  public static ApiClient.Settings defaultSettings(Sleeper sleeper) {
    return new ApiClient.Settings(5, Duration.ofMillis(100), Duration.ofSeconds(1),
        GlobalOptions.DEFAULT_MANAGER_TIMEOUT, sleeper, () -> UUID.randomUUID().toString());
  }

  public PrintWriter out() {
    return out;
  }

  public PrintWriter err() {
    return err;
  }

  public Clock clock() {
    return clock;
  }

  /** The environment the command runs in (the process's, or a test's). */
  public Map<String, String> env() {
    return env;
  }

  public GlobalOptions globalOptions() {
    return globalOptions;
  }

  /** Opens a client for the managers named by {@code --manager}, the environment, or the default. */
  public ApiClient connect() {
    return new ApiClient(globalOptions.managers(env), channelFactory,
        globalOptions.managerTimeout(env).map(settings::withAnswerTimeout).orElse(settings));
  }
}
