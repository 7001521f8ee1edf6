package dev.berth.net.vxlan;

import java.util.ArrayList;
import java.util.List;

/**
 * A network namespace commands run in: the agent's own (current), a named one
 * (/var/run/netns/NAME, as test hosts and `ip netns add` make), or a process's
 * (/proc/PID/ns/net, as the node agent's containers have).
 *
 * <p>Thread model: immutable.
 */
public record NetnsRef(String name, int pid) {
  public static final NetnsRef CURRENT = new NetnsRef(null, 0);

  public static NetnsRef named(String name) {
    if (name == null || name.isEmpty() || name.contains("/")) {
      throw new IllegalArgumentException("bad netns name: " + name);
    }
    return new NetnsRef(name, 0);
  }

  public static NetnsRef ofPid(int pid) {
    if (pid <= 0) {
      throw new IllegalArgumentException("bad pid: " + pid);
    }
    return new NetnsRef(null, pid);
  }

  public boolean isCurrent() {
    return name == null && pid == 0;
  }

  /** Argument for `ip link ... netns X`, which takes a name or a pid. */
  String moveArg() {
    if (isCurrent()) {
      throw new IllegalStateException("cannot move a link into the current namespace by reference");
    }
    return name != null ? name : Integer.toString(pid);
  }

  /** A command line run inside this namespace. */
  public List<String> exec(List<String> command) {
    List<String> out = new ArrayList<>();
    if (name != null) {
      out.addAll(List.of("ip", "netns", "exec", name));
    } else if (pid != 0) {
      out.addAll(List.of("nsenter", "--net=/proc/" + pid + "/ns/net"));
    }
    out.addAll(command);
    return out;
  }

  @Override
  public String toString() {
    return isCurrent() ? "current netns" : name != null ? "netns " + name : "netns of pid " + pid;
  }
}
