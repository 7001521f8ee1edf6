package dev.berth.net.dns;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** The host's resolvers, from resolv.conf's "nameserver" lines (port 53). */
public final class ResolvConf {
  private ResolvConf() {}

  public static List<InetSocketAddress> nameservers(Path resolvConf) throws IOException {
    List<InetSocketAddress> out = new ArrayList<>();
    for (String line : Files.readAllLines(resolvConf)) {
      String[] t = line.trim().split("\\s+");
      if (t.length >= 2 && t[0].equals("nameserver")) {
        out.add(new InetSocketAddress(t[1], 53));
      }
    }
    if (out.isEmpty()) {
      throw new IOException(resolvConf + " names no nameserver");
    }
    return out;
  }
}
