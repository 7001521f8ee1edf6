package dev.berth.manager.ipam;

/**
 * An IPv4 subnet (network address and prefix length), and the small address arithmetic
 * IPAM needs. Addresses are held as unsigned 32-bit values in an {@code int}.
 *
 * <p>Hand-written rather than taken from a library (e.g. commons-net's SubnetUtils):
 * the few operations needed are a dozen lines and a dependency would pull in far more.
 *
 * <p>Thread model: immutable. Error contract: {@link #parse} throws
 * {@link IpamException} (INVALID_ARGUMENT) naming the bad text.
 */
public record Ipv4Subnet(int base, int prefix) {

  public Ipv4Subnet {
    if (prefix < 0 || prefix > 32) {
      throw new IllegalArgumentException("prefix out of range: " + prefix);
    }
    if ((base & mask(prefix)) != base) {
      throw new IllegalArgumentException("not a network address: " + formatAddress(base) + "/" + prefix);
    }
  }

  /** Parses "a.b.c.d/n"; the address must be the network address of the prefix. */
  public static Ipv4Subnet parse(String cidr) throws IpamException {
    int slash = cidr.indexOf('/');
    if (slash < 0) {
      throw IpamException.invalid("subnet '" + cidr + "' is not in CIDR form a.b.c.d/n");
    }
    int addr = parseAddress(cidr.substring(0, slash));
    int prefix;
    try {
      prefix = Integer.parseInt(cidr.substring(slash + 1));
    } catch (NumberFormatException e) {
      throw IpamException.invalid("subnet '" + cidr + "' has a bad prefix length");
    }
    if (prefix < 0 || prefix > 32) {
      throw IpamException.invalid("subnet '" + cidr + "' has a prefix length outside 0..32");
    }
    if ((addr & mask(prefix)) != addr) {
      throw IpamException.invalid("subnet '" + cidr + "' is not a network address; did you mean "
          + formatAddress(addr & mask(prefix)) + "/" + prefix + "?");
    }
    return new Ipv4Subnet(addr, prefix);
  }

  /** Parses a dotted-quad address. */
  public static int parseAddress(String text) throws IpamException {
    String[] parts = text.split("\\.", -1);
    if (parts.length != 4) {
      throw IpamException.invalid("'" + text + "' is not an IPv4 address");
    }
    int addr = 0;
    for (String p : parts) {
      if (p.isEmpty() || p.length() > 3 || !p.chars().allMatch(Character::isDigit)) {
        throw IpamException.invalid("'" + text + "' is not an IPv4 address");
      }
      int v = Integer.parseInt(p);
      if (v > 255) {
        throw IpamException.invalid("'" + text + "' is not an IPv4 address (octet " + v + " > 255)");
      }
      addr = (addr << 8) | v;
    }
    return addr;
  }

  public static String formatAddress(int addr) {
    return ((addr >>> 24) & 0xff) + "." + ((addr >>> 16) & 0xff) + "." + ((addr >>> 8) & 0xff) + "." + (addr & 0xff);
  }

  /** MAC derived from an IPv4 address, as Docker does: 02:42 followed by the four octets. */
  public static String macOf(int addr) {
    return String.format("02:42:%02x:%02x:%02x:%02x",
        (addr >>> 24) & 0xff, (addr >>> 16) & 0xff, (addr >>> 8) & 0xff, addr & 0xff);
  }

  static int mask(int prefix) {
    return prefix == 0 ? 0 : -1 << (32 - prefix);
  }

  /** Number of addresses in the subnet (2^(32-prefix)), as a long so /0 fits. */
  public long size() {
    return 1L << (32 - prefix);
  }

  public boolean contains(int addr) {
    return (addr & mask(prefix)) == base;
  }

  public boolean overlaps(Ipv4Subnet other) {
    int p = Math.min(prefix, other.prefix);
    return (base & mask(p)) == (other.base & mask(p));
  }

  /** The address at an offset from the network address. */
  public int address(long offset) {
    return base + (int) offset;
  }

  public long offsetOf(int addr) {
    return Integer.toUnsignedLong(addr - base);
  }

  /** "a.b.c.d/prefix" for an address inside this subnet. */
  public String cidrOf(int addr) {
    return formatAddress(addr) + "/" + prefix;
  }

  @Override
  public String toString() {
    return formatAddress(base) + "/" + prefix;
  }
}
