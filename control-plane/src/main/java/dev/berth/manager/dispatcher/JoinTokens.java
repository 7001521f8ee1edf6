package dev.berth.manager.dispatcher;

import dev.berth.api.v1.Cluster;
import dev.berth.api.v1.NodeRole;
import dev.berth.manager.api.JoinTokenKeeper;
import java.util.Optional;

/**
 * Which role a join token admits. Token format and hashing are {@link JoinTokenKeeper}'s (the
 * cluster stores only SHA-256 hashes of the secrets); this only asks it for each role.
 *
 * <p>Thread model: stateless. Error contract: malformed tokens simply do not verify.
 */
public final class JoinTokens {
  private JoinTokens() {}

  /** The role the token admits, or empty when it is malformed or matches neither hash. */
  public static Optional<NodeRole> verify(String token, Cluster cluster) {
    if (token == null) {
      return Optional.empty();
    }
    if (JoinTokenKeeper.accepts(cluster, NodeRole.WORKER, token)) {
      return Optional.of(NodeRole.WORKER);
    }
    if (JoinTokenKeeper.accepts(cluster, NodeRole.MANAGER, token)) {
      return Optional.of(NodeRole.MANAGER);
    }
    return Optional.empty();
  }

  /** Lowercase hex SHA-256 of a secret, as kept in {@link Cluster}. */
  public static String sha256(String secret) {
    return JoinTokenKeeper.hash(secret);
  }
}
