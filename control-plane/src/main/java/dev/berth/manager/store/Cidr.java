package dev.berth.manager.store;

/**
 * An IPv4 prefix. Hand-written because the JDK has no CIDR type and apply needs a tiny,
 * allocation-free, deterministic one (no DNS lookups as {@code InetAddress} may do).
 */
record Cidr(long base, int bits) {
  static Cidr parse(String field, String text) {
    int slash = text.indexOf('/');
    if (slash < 0) {
      throw ApplyException.invalid(field + ": \"" + text + "\" is not an IPv4 CIDR like 10.0.1.0/24");
    }
    long addr = parseAddress(field, text.substring(0, slash));
    int bits;
    try {
      bits = Integer.parseInt(text.substring(slash + 1));
    } catch (NumberFormatException e) {
      bits = -1;
    }
    if (bits < 8 || bits > 30) {
      throw ApplyException.invalid(field + ": prefix length must be 8..30 (got \"" + text + "\")");
    }
    long mask = mask(bits);
    if ((addr & ~mask & 0xffffffffL) != 0) {
      throw ApplyException.invalid(field + ": \"" + text + "\" has host bits set");
    }
    return new Cidr(addr, bits);
  }

  static long parseAddress(String field, String text) {
    String[] parts = text.split("\\.", -1);
    if (parts.length != 4) {
      throw ApplyException.invalid(field + ": \"" + text + "\" is not an IPv4 address");
    }
    long v = 0;
    for (String p : parts) {
      int octet;
      try {
        octet = p.isEmpty() || p.length() > 3 ? -1 : Integer.parseInt(p);
      } catch (NumberFormatException e) {
        octet = -1;
      }
      if (octet < 0 || octet > 255) {
        throw ApplyException.invalid(field + ": \"" + text + "\" is not an IPv4 address");
      }
      v = (v << 8) | octet;
    }
    return v;
  }

  static long mask(int bits) {
    return (0xffffffffL << (32 - bits)) & 0xffffffffL;
  }

  boolean contains(long addr) {
    return (addr & mask(bits)) == base;
  }

  boolean overlaps(Cidr other) {
    int b = Math.min(bits, other.bits);
    return (base & mask(b)) == (other.base & mask(b));
  }

  long size() {
    return 1L << (32 - bits);
  }

  static String format(long addr) {
    return ((addr >> 24) & 255) + "." + ((addr >> 16) & 255) + "." + ((addr >> 8) & 255) + "." + (addr & 255);
  }

  @Override
  public String toString() {
    return format(base) + "/" + bits;
  }
}
