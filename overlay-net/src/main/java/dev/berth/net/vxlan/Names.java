package dev.berth.net.vxlan;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * Kernel object names of the data plane. Linux interface names are limited to 15
 * characters, so names are a two-letter kind plus a hash of the node id and the
 * object's ids: two agents sharing a network namespace (test hosts) never clash, and a
 * restarted agent finds its own devices again. Each link also carries the alias
 * "berth:NODE" so a restarted agent can tell its devices (including stale ones of
 * networks removed meanwhile) from anybody else's.
 */
public final class Names {
  private Names() {}

  public static String bridge(String nodeId, String networkId) {
    return "bb" + hash(nodeId + "/" + networkId, 12);
  }

  public static String vxlan(String nodeId, String networkId) {
    return "bx" + hash(nodeId + "/" + networkId, 12);
  }

  /** Host end of a container's veth on an overlay network. */
  public static String endpointVeth(String nodeId, String sandboxId, String networkId) {
    return "bv" + hash(nodeId + "/" + sandboxId + "/" + networkId, 12);
  }

  /** The node's gateway bridge (default route and source NAT for its containers). */
  public static String gatewayBridge(String nodeId) {
    return "bg" + hash(nodeId, 12);
  }

  /** Host end of a container's veth on the gateway bridge. */
  public static String gatewayVeth(String nodeId, String sandboxId) {
    return "bw" + hash(nodeId + "/" + sandboxId, 12);
  }

  /** iptables nat chain holding the node's MASQUERADE rule (chain names: at most 28 characters). */
  public static String natChain(String nodeId) {
    return "BERTH-" + hash(nodeId, 12).toUpperCase();
  }

  /** nftables table of the node's kernel routing mesh (one per node, so agents sharing a namespace never clash). */
  public static String meshTable(String nodeId) {
    return "berth-mesh-" + hash(nodeId, 12);
  }

  public static String alias(String nodeId) {
    return "berth:" + nodeId;
  }

  /** The first {@code hexChars} hex digits of the SHA-256 of {@code s}. */
  public static String hash(String s, int hexChars) {
    try {
      byte[] d = MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
      return HexFormat.of().formatHex(d).substring(0, hexChars);
    } catch (NoSuchAlgorithmException e) {
      throw new AssertionError("SHA-256 is always present", e);
    }
  }
}
