package dev.berth.manager.api;

import dev.berth.api.v1.Cluster;
import dev.berth.api.v1.JoinTokens;
import dev.berth.api.v1.NodeRole;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.Optional;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Join tokens {@code BERTH-1-<ca digest>-<secret>}. The replicated state keeps only
 * SHA-256 hashes of the secrets; each secret is HMAC-SHA256(root secret, role:rotation),
 * and the root secret lives only in the managers' state dirs, so any manager can show the
 * current tokens again without them ever entering the Raft log.
 *
 * <p>The rotation number is not stored: it is recovered by deriving candidates until one
 * matches the stored hash (bounded by {@link #MAX_ROTATIONS}; each costs one HMAC).
 *
 * <p>Thread model: immutable, thread-safe.
 */
public final class JoinTokenKeeper {
  public static final int MAX_ROTATIONS = 10_000;
  private final byte[] rootSecret;

  public JoinTokenKeeper(byte[] rootSecret) {
    this.rootSecret = rootSecret.clone();
  }

  public byte[] rootSecret() {
    return rootSecret.clone();
  }

  public String secret(NodeRole role, int rotation) {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(rootSecret, "HmacSHA256"));
      byte[] out = mac.doFinal((role.name().toLowerCase() + ":" + rotation)
          .getBytes(StandardCharsets.UTF_8));
      return HexFormat.of().formatHex(out, 0, 16);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("HmacSHA256 missing from the JDK", e);
    }
  }

  public static String hash(String secret) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256")
          .digest(secret.getBytes(StandardCharsets.UTF_8)));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("SHA-256 missing from the JDK", e);
    }
  }

  public static String token(String caDigest, String secret) {
    return "BERTH-1-" + caDigest + "-" + secret;
  }

  /** The secret part of a well-formed token, if it is one. */
  public static Optional<String> secretOf(String token) {
    String[] parts = token.split("-");
    if (parts.length != 4 || !parts[0].equals("BERTH") || !parts[1].equals("1")) {
      return Optional.empty();
    }
    return Optional.of(parts[3]);
  }

  private static String storedHash(Cluster c, NodeRole role) {
    return role == NodeRole.MANAGER ? c.getManagerTokenHash() : c.getWorkerTokenHash();
  }

  /** Current rotation of a role's token, or -1 when the stored hash matches none. */
  public int rotation(Cluster c, NodeRole role) {
    String want = storedHash(c, role);
    for (int r = 0; r < MAX_ROTATIONS; r++) {
      if (hash(secret(role, r)).equals(want)) {
        return r;
      }
    }
    return -1;
  }

  public JoinTokens tokens(Cluster c) {
    return JoinTokens.newBuilder()
        .setWorker(token(c.getCaDigest(), secret(NodeRole.WORKER, rotation(c, NodeRole.WORKER))))
        .setManager(token(c.getCaDigest(), secret(NodeRole.MANAGER, rotation(c, NodeRole.MANAGER))))
        .build();
  }

  /** Whether {@code token} is the current token of {@code role}. */
  public static boolean accepts(Cluster c, NodeRole role, String token) {
    return secretOf(token).map(s -> MessageDigest.isEqual(
        hash(s).getBytes(StandardCharsets.UTF_8),
        storedHash(c, role).getBytes(StandardCharsets.UTF_8))).orElse(false);
  }
}
