package dev.berth.net.dns;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The names one node's DNS server answers: every task endpoint on the networks the node
 * serves (fed by the agent as endpoints come, go and change health), and which networks
 * each local container is on, keyed by the source address its queries come from.
 *
 * <p>Answers: {@code SERVICE} (or an alias) → the addresses of the service's healthy
 * tasks; {@code tasks.SERVICE} → every task's address; only endpoints on networks the
 * asking container shares count. A name with no endpoint on a shared network is "not
 * ours" and goes to the upstream resolvers, so a container learns nothing about networks
 * it is not on.
 *
 * <p>Thread model: thread-safe; updates are visible to the next lookup (no caching, so
 * answers follow task state as fast as the agent feeds it). Error contract: none; bad
 * names are simply not ours.
 */
public final class RecordTable {
  /** A task's address on one network. Names are matched case-insensitively. */
  public record Endpoint(String taskId, String networkId, String service, List<String> aliases, String ip,
      boolean healthy) {
    public Endpoint {
      service = service.toLowerCase(Locale.ROOT);
      aliases = aliases.stream().map(a -> a.toLowerCase(Locale.ROOT)).toList();
      int slash = ip.indexOf('/');
      ip = slash < 0 ? ip : ip.substring(0, slash);
    }

    boolean answers(String name) {
      return service.equals(name) || aliases.contains(name);
    }
  }

  /** @param ours false: forward upstream; true: answer with these addresses (possibly none) */
  public record Answer(boolean ours, List<String> addresses) {
    static final Answer NOT_OURS = new Answer(false, List.of());
  }

  private final Map<String, Endpoint> endpoints = new ConcurrentHashMap<>();
  private final Map<String, Set<String>> clients = new ConcurrentHashMap<>();

  public void put(Endpoint e) {
    endpoints.put(e.taskId() + "|" + e.networkId(), e);
  }

  public void remove(String taskId, String networkId) {
    endpoints.remove(taskId + "|" + networkId);
  }

  public void removeTask(String taskId) {
    endpoints.values().removeIf(e -> e.taskId().equals(taskId));
  }

  /** Declares a local container: queries from sourceIp see the endpoints of these networks. */
  public void putClient(String sourceIp, Set<String> networkIds) {
    clients.put(sourceIp, Set.copyOf(networkIds));
  }

  public void removeClient(String sourceIp) {
    clients.remove(sourceIp);
  }

  /** Resolves an A query name (with or without the trailing dot) for the container at askerIp. */
  public Answer lookup(String askerIp, String qname) {
    Set<String> nets = clients.get(askerIp);
    if (nets == null) {
      return Answer.NOT_OURS;
    }
    String name = qname.toLowerCase(Locale.ROOT);
    if (name.endsWith(".")) {
      name = name.substring(0, name.length() - 1);
    }
    boolean all = name.startsWith("tasks.");
    String service = all ? name.substring("tasks.".length()) : name;
    List<Endpoint> matches = new ArrayList<>();
    for (Endpoint e : endpoints.values()) {
      if (nets.contains(e.networkId()) && e.answers(service)) {
        matches.add(e);
      }
    }
    if (matches.isEmpty()) {
      return Answer.NOT_OURS;
    }
    List<String> ips = matches.stream().filter(e -> all || e.healthy()).map(Endpoint::ip).distinct()
        .sorted(Comparator.comparingLong(RecordTable::numeric)).toList();
    return new Answer(true, ips);
  }

  private static long numeric(String ip) {
    long v = 0;
    for (String p : ip.split("\\.")) {
      v = (v << 8) | Integer.parseInt(p);
    }
    return v;
  }
}
