package dev.berth.net.vxlan;

/**
 * Minimal IPv4 CIDR parsing for the data plane (the cluster IPAM owns real allocation;
 * here we only need base/prefix and formatting, not worth a library). Public for the
 * agent's network controller. Error contract: malformed input throws
 * {@link IllegalArgumentException} naming it.
 */
public record Cidr(int base, int prefix) {
  public static Cidr parse(String cidr) {
    int slash = cidr.indexOf('/');
    if (slash < 0) {
      throw new IllegalArgumentException("not CIDR: " + cidr);
    }
    int prefix = Integer.parseInt(cidr.substring(slash + 1));
    int addr = address(cidr.substring(0, slash));
    int mask = prefix == 0 ? 0 : -1 << (32 - prefix);
    return new Cidr(addr & mask, prefix);
  }

  public static int address(String dotted) {
    String[] p = dotted.split("\\.");
    if (p.length != 4) {
      throw new IllegalArgumentException("not an IPv4 address: " + dotted);
    }
    int a = 0;
    for (String s : p) {
      int v = Integer.parseInt(s);
      if (v < 0 || v > 255) {
        throw new IllegalArgumentException("not an IPv4 address: " + dotted);
      }
      a = (a << 8) | v;
    }
    return a;
  }

  public static String format(int a) {
    return ((a >>> 24) & 0xff) + "." + ((a >>> 16) & 0xff) + "." + ((a >>> 8) & 0xff) + "." + (a & 0xff);
  }

  @Override
  public String toString() {
    return format(base) + "/" + prefix;
  }

  public static String hostOf(String cidr) {
    int slash = cidr.indexOf('/');
    return slash < 0 ? cidr : cidr.substring(0, slash);
  }
}
