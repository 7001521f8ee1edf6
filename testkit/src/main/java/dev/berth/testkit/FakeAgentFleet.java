package dev.berth.testkit;

import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;

/**
 * {@link FakeAgent}s that share one timer pool and one channel per manager ({@link Channels}):
 * each is started as it is added, and {@link #close()} closes them all, then the channels and the
 * pool. What tests, the demo and the benchmark hold instead of wiring the three by hand.
 *
 * <p>Thread model: thread-safe. Error contract: as {@link FakeAgent}'s (nothing is thrown for
 * connection problems).
 */
public final class FakeAgentFleet implements AutoCloseable {
  private final ScheduledExecutorService scheduler;
  private final Channels channels = new Channels();
  private final List<FakeAgent> agents = new ArrayList<>();

  /**
   * @param threads the shared pool's size; agents register with a blocking call on it, so it bounds
   *     how many register at once
   */
  public FakeAgentFleet(int threads) {
    this.scheduler = Executors.newScheduledThreadPool(threads);
  }

  /** Adds and starts an agent joining through {@code managers} (addresses, or {@code inproc:NAME}). */
  public synchronized FakeAgent start(List<String> managers, FakeAgent.Options options) {
    FakeAgent agent = new FakeAgent(managers, channels::get, options, scheduler, Clock.systemUTC());
    agents.add(agent);
    agent.start();
    return agent;
  }

  /** The agents added so far, in order. */
  public synchronized List<FakeAgent> agents() {
    return List.copyOf(agents);
  }

  /** The shared channels, for a test's own clients of the same managers. */
  public Channels channels() {
    return channels;
  }

  @Override
  public synchronized void close() {
    agents.forEach(FakeAgent::close);
    channels.close();
    scheduler.shutdownNow();
  }
}
