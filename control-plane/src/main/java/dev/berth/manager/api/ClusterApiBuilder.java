package dev.berth.manager.api;

import dev.berth.manager.image.ImagePinner;
import dev.berth.manager.store.ClusterStore;
import dev.berth.manager.store.Proposer;
import java.time.Clock;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * What a {@link ClusterApi} is built from. The store, proposer, Raft view, clock and watch handler
 * are required; the rest default to "absent": no join tokens, no Raft group, no agent streams, no
 * image pinning, no usage readings. Not thread-safe; used once, while wiring a manager.
 */
public final class ClusterApiBuilder {
  final ClusterStore store;
  final Proposer proposer;
  final RaftView raft;
  final Clock clock;
  final WatchHandler watches;
  Supplier<Optional<JoinTokenKeeper>> tokens = Optional::empty;
  ManagerMembership membership;
  Supplier<Optional<AgentStreams>> agentStreams = Optional::empty;
  ImagePinner pinner = ImagePinner.off();
  UsageSource usage = UsageSource.NONE;

  ClusterApiBuilder(ClusterStore store, Proposer proposer, RaftView raft, Clock clock, WatchHandler watches) {
    this.store = store;
    this.proposer = proposer;
    this.raft = raft;
    this.clock = clock;
    this.watches = watches;
  }

  /** The join tokens (empty until the cluster is initialised). */
  public ClusterApiBuilder joinTokens(Supplier<Optional<JoinTokenKeeper>> tokens) {
    this.tokens = tokens;
    return this;
  }

  /**
   * Changes the Raft group when a manager is demoted or force-removed. Without one (in-process
   * fixtures have no Raft group) manager demote/rm fail.
   */
  public ClusterApiBuilder membership(ManagerMembership membership) {
    this.membership = membership;
    return this;
  }

  /** The leader's logs and exec (empty until the dispatcher is installed). */
  public ClusterApiBuilder agentStreams(Supplier<Optional<AgentStreams>> agentStreams) {
    this.agentStreams = agentStreams;
    return this;
  }

  /** Resolves image tags to digests before a service write is proposed. */
  public ClusterApiBuilder imagePinner(ImagePinner pinner) {
    this.pinner = pinner;
    return this;
  }

  /** Heartbeat usage readings that reads copy into Node.usage and Task.usage. */
  public ClusterApiBuilder usage(UsageSource usage) {
    this.usage = usage;
    return this;
  }

  public ClusterApi build() {
    return new ClusterApi(this);
  }
}
