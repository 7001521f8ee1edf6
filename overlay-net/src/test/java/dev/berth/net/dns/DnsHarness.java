package dev.berth.net.dns;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;

/**
 * Runs a node's DNS server inside a test host's namespace (a JVM cannot bind a socket in
 * another namespace, so the test starts this with `ip netns exec HOST java ...`), with a
 * tiny upstream on that namespace's 127.0.0.1:53, the upstream found through a
 * resolv.conf. The record table is fed line by line on stdin, as the agent would feed it:
 * "client IP NET,NET", "add TASK NET SERVICE IP healthy|unhealthy", "del TASK NET";
 * each line is answered "ok" once applied.
 *
 * <p>Args: LISTEN_IP RESOLV_CONF
 */
public final class DnsHarness {
  private DnsHarness() {}

  public static void main(String[] args) throws Exception {
    RecordTable table = new RecordTable();
    try (DnsTestSupport.TinyUpstream up = new DnsTestSupport.TinyUpstream(new InetSocketAddress("127.0.0.1", 53));
        DnsServer server = new DnsServer(table, new InetSocketAddress(args[0], 53),
            ResolvConf.nameservers(Path.of(args[1]))).start()) {
      System.out.println("ready");
      System.out.flush();
      BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
      for (String line; (line = in.readLine()) != null; ) {
        String[] t = line.trim().split("\\s+");
        switch (t[0]) {
          case "client" -> table.putClient(t[1], Set.of(t[2].split(",")));
          case "add" -> table.put(new RecordTable.Endpoint(t[1], t[2], t[3], List.of(), t[4], t[5].equals("healthy")));
          case "del" -> table.remove(t[1], t[2]);
          default -> {
            System.out.println("error: unknown command " + t[0]);
            continue;
          }
        }
        System.out.println("ok");
        System.out.flush();
      }
    }
    System.exit(0);
  }
}
