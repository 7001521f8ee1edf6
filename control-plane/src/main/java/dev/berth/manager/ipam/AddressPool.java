package dev.berth.manager.ipam;

import java.util.HashMap;
import java.util.Map;
import java.util.Objects;

/**
 * The addresses of one network: who holds which, and the next-fit cursor.
 *
 * <p>Next-fit (scan on from the address handed out last, wrapping) rather than lowest
 * free: a freed address is handed out again as late as possible, so stale ARP/FDB/DNS
 * entries for a departed task are long gone before another task carries its address.
 *
 * <p>Thread model: not thread-safe; owned by one {@link Ipam}.
 */
final class AddressPool {
  final String networkId;
  final String networkName;
  final Ipv4Subnet subnet;
  final int gateway;
  /** Offset of the address handed out last (0 = none yet). */
  final long cursor;
  private final Map<Integer, String> owners = new HashMap<>();

  AddressPool(String networkId, String networkName, Ipv4Subnet subnet, int gateway, long cursor) {
    this.networkId = networkId;
    this.networkName = networkName;
    this.subnet = subnet;
    this.gateway = gateway;
    this.cursor = cursor;
  }

  boolean usable(int addr) {
    long off = subnet.offsetOf(addr);
    return subnet.contains(addr) && off != 0 && off != subnet.size() - 1 && addr != gateway;
  }

  /** Next free usable address after the cursor, wrapping; does not take it. */
  Integer nextFree() {
    long size = subnet.size();
    for (long i = 1; i <= size; i++) {
      long off = (cursor + i) % size;
      int addr = subnet.address(off);
      if (usable(addr) && !owners.containsKey(addr)) {
        return addr;
      }
    }
    return null;
  }

  /** Takes over the holders of the pool this one replaces (same network, refreshed cursor). */
  void adopt(AddressPool previous) {
    owners.putAll(previous.owners);
  }

  /** Marks an address held by a stored object; the cursor is the stored network's. */
  void restore(int addr, String owner) {
    if (!usable(addr)) {
      throw new IllegalStateException("stored address " + Ipv4Subnet.formatAddress(addr)
          + " of " + owner + " is not usable in network " + networkName + " (" + subnet + ")");
    }
    String prev = owners.putIfAbsent(addr, owner);
    if (prev != null && !prev.equals(owner)) {
      throw new IllegalStateException("stored address " + Ipv4Subnet.formatAddress(addr)
          + " is held by both " + prev + " and " + owner + " in network " + networkName);
    }
  }

  /** Frees an address if {@code owner} holds it (a rollback may release what another re-took). */
  void free(int addr, String owner) {
    owners.remove(addr, owner);
  }

  String ownerOf(int addr) {
    return owners.get(addr);
  }

  Map<Integer, String> owners() {
    return owners;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof AddressPool p && networkId.equals(p.networkId) && networkName.equals(p.networkName)
        && subnet.equals(p.subnet) && gateway == p.gateway && cursor == p.cursor && owners.equals(p.owners);
  }

  @Override
  public int hashCode() {
    return Objects.hash(networkId, subnet, cursor, owners);
  }

  @Override
  public String toString() {
    return networkName + "(" + subnet + ", cursor " + cursor + ", " + owners.size() + " held)";
  }
}
