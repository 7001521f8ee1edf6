package dev.berth.scheduler.filter;

import dev.berth.api.v1.Platform;
import dev.berth.scheduler.NodeInfo;
import java.util.List;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * The node's platform is one the task's image supports ({@code Placement.platforms}; the filter is not used
 * when that list is empty). Architecture aliases are normalised as Docker does ({@code x86_64} is
 * {@code amd64}, {@code aarch64} is {@code arm64}); an empty os or architecture on either side matches any.
 */
public final class PlatformFilter implements Filter {

  private final List<Platform> supported;

  public PlatformFilter(List<Platform> supported) {
    this.supported = List.copyOf(supported);
  }

  @Override
  public boolean check(NodeInfo node) {
    Platform actual = node.node().getDescription().getPlatform();
    for (Platform p : supported) {
      if (matches(p.getOs(), actual.getOs()) && matches(arch(p.getArchitecture()), arch(actual.getArchitecture()))) {
        return true;
      }
    }
    return false;
  }

  private static boolean matches(String wanted, String actual) {
    return wanted.isEmpty() || actual.isEmpty() || wanted.equalsIgnoreCase(actual);
  }

  static String arch(String a) {
    String lower = a.toLowerCase(Locale.ROOT);
    switch (lower) {
      case "x86_64":
      case "x86-64":
        return "amd64";
      case "aarch64":
        return "arm64";
      default:
        return lower;
    }
  }

  @Override
  public boolean isStatic() {
    return true;
  }

  @Override
  public String reason() {
    return "unsupported platform (image supports "
        + supported.stream().map(p -> p.getOs() + "/" + p.getArchitecture()).collect(Collectors.joining(", "))
        + ")";
  }
}
