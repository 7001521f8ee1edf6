package dev.berth.manager.dispatcher;

import dev.berth.api.v1.Cluster;
import dev.berth.api.v1.NodeRole;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Optional;

/**
 * Join tokens {@code BERTH-1-<ca digest>-<secret>}: the cluster stores only the SHA-256 (hex)
 * of each role's secret, so a token is checked by hashing its secret part.
 *
 * <p>Thread model: stateless. Error contract: malformed tokens simply do not verify.
 */
public final class JoinTokens {
  private static final String PREFIX = "BERTH-1-";

  private JoinTokens() {}

  /** The role the token admits, or empty when it is malformed or matches neither hash. */
  public static Optional<NodeRole> verify(String token, Cluster cluster) {
    Optional<String> secret = secretOf(token);
    if (secret.isEmpty()) {
      return Optional.empty();
    }
    byte[] hash = sha256(secret.get()).getBytes(StandardCharsets.US_ASCII);
    // Constant-time comparisons: the hashes are not secret, but the habit costs nothing.
    if (MessageDigest.isEqual(hash, cluster.getWorkerTokenHash().getBytes(StandardCharsets.US_ASCII))) {
      return Optional.of(NodeRole.WORKER);
    }
    if (MessageDigest.isEqual(hash, cluster.getManagerTokenHash().getBytes(StandardCharsets.US_ASCII))) {
      return Optional.of(NodeRole.MANAGER);
    }
    return Optional.empty();
  }

  /** The secret after the last dash of a well-formed token. */
  static Optional<String> secretOf(String token) {
    if (token == null || !token.startsWith(PREFIX)) {
      return Optional.empty();
    }
    int dash = token.lastIndexOf('-');
    if (dash < PREFIX.length() || dash == token.length() - 1) {
      return Optional.empty();
    }
    return Optional.of(token.substring(dash + 1));
  }

  /** Lowercase hex SHA-256 of the secret's UTF-8 bytes, as kept in {@link Cluster}. */
  public static String sha256(String secret) {
    try {
      return HexFormat.of().formatHex(
          MessageDigest.getInstance("SHA-256").digest(secret.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every JVM provides SHA-256", e);
    }
  }
}
