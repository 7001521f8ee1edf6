package dev.berth.net.vxlan;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * Runs planned {@link Step}s against the kernel.
 *
 * <p>Why iproute2 batch mode rather than netlink from Java: the JDK has no netlink
 * socket support and there is no maintained Java netlink library, so netlink would mean
 * hand-encoding rtnetlink/VXLAN/FDB messages over JNI or Panama, a large surface to get
 * subtly wrong. `ip -batch -` / `bridge -batch -` apply a whole plan with one process per
 * tool and namespace (a few ms, amortised over every command in it), iproute2 is the
 * reference encoder of those messages, and its text is what an operator debugging a node
 * reads and types. The reader uses the same tools, so plan and readback agree on format.
 *
 * <p>Thread model: stateless; callers serialise steps touching the same objects.
 * Error contract: the first failing step throws {@link IOException} with the tool's
 * stderr and the batch; later steps are not run (the next reconcile picks up the rest).
 */
public class KernelExecutor {

  public void run(List<Step> steps) throws IOException {
    for (Step s : steps) {
      switch (s.tool()) {
        case IP -> Commands.run(s.netns().exec(List.of("ip", "-batch", "-")), join(s.lines()));
        case BRIDGE -> Commands.run(s.netns().exec(List.of("bridge", "-batch", "-")), join(s.lines()));
        case IPTABLES -> Commands.run(s.netns().exec(List.of("iptables-restore", "--noflush")), join(s.lines()));
        case SYSCTL -> {
          List<String> cmd = new ArrayList<>(List.of("sysctl", "-q", "-w"));
          cmd.addAll(s.lines());
          Commands.run(s.netns().exec(cmd), null);
        }
      }
    }
  }

  private static String join(List<String> lines) {
    return String.join("\n", lines) + "\n";
  }
}
