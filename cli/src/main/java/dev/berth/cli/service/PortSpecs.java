package dev.berth.cli.service;

import dev.berth.api.v1.PortConfig;
import dev.berth.api.v1.Protocol;
import dev.berth.cli.UserException;
import java.util.Locale;

/**
 * {@code --publish} values, in Docker's two forms: short {@code [PUBLISHED:]TARGET[/PROTOCOL]}
 * ({@code 8080:80}, {@code 53:53/udp}, {@code 80}) and long
 * {@code mode=host,published=8080,target=80,protocol=tcp}; and their display as
 * {@code *:8080->80/tcp}.
 */
public final class PortSpecs {
  private PortSpecs() {}

  /** Parses one value of {@code flag}; errors name the flag and quote the value. */
  public static PortConfig parse(String flag, String value) {
    PortConfig.Builder p = value.contains("=") ? parseLong(flag, value) : parseShort(flag, value);
    if (p.getTargetPort() == 0) {
      throw UserException.field(flag, "'" + value + "' has no target port");
    }
    return p.build();
  }

  private static PortConfig.Builder parseShort(String flag, String value) {
    PortConfig.Builder p = PortConfig.newBuilder();
    String ports = value;
    int slash = value.indexOf('/');
    if (slash >= 0) {
      p.setProtocol(protocol(flag, value.substring(slash + 1)));
      ports = value.substring(0, slash);
    }
    String[] parts = ports.split(":", -1);
    if (parts.length > 2) {
      throw UserException.field(flag, "'" + value + "' is not [PUBLISHED:]TARGET[/PROTOCOL]");
    }
    if (parts.length == 2) {
      p.setPublishedPort(port(flag, value, parts[0]));
    }
    return p.setTargetPort(port(flag, value, parts[parts.length - 1]));
  }

  private static PortConfig.Builder parseLong(String flag, String value) {
    PortConfig.Builder p = PortConfig.newBuilder();
    for (var field : LongForm.fields(flag, value)) {
      String key = field.getKey();
      String v = field.getValue();
      switch (key) {
        case "mode" -> p.setPublishMode(switch (v.toLowerCase(Locale.ROOT)) {
          case "ingress" -> PortConfig.PublishMode.INGRESS;
          case "host" -> PortConfig.PublishMode.HOST;
          default -> throw UserException.field(flag, "mode '" + v + "' is not ingress or host");
        });
        case "published" -> p.setPublishedPort(port(flag, value, v));
        case "target" -> p.setTargetPort(port(flag, value, v));
        case "protocol" -> p.setProtocol(protocol(flag, v));
        case "name" -> p.setName(v);
        case "proxy-protocol" -> p.setProxyProtocol(switch (v.toLowerCase(Locale.ROOT)) {
          case "true" -> true;
          case "false" -> false;
          default -> throw UserException.field(flag, "proxy-protocol '" + v + "' is not true or false");
        });
        default -> throw UserException.field(flag,
            "unknown key '" + key + "' (use mode, published, target, protocol, name, proxy-protocol)");
      }
    }
    return p;
  }

  private static int port(String flag, String value, String text) {
    try {
      int port = Integer.parseInt(text.trim());
      if (port >= 1 && port <= 65535) {
        return port;
      }
    } catch (NumberFormatException e) {
      // reported below
    }
    throw UserException.field(flag, "port '" + text + "' in '" + value + "' must be 1..65535");
  }

  private static Protocol protocol(String flag, String text) {
    return switch (text.trim().toLowerCase(Locale.ROOT)) {
      case "tcp" -> Protocol.TCP;
      case "udp" -> Protocol.UDP;
      default -> throw UserException.field(flag, "protocol '" + text + "' is not tcp or udp");
    };
  }

  /** {@code *:8080->80/tcp} for the routing mesh, {@code host:8080->80/tcp} for host mode. */
  public static String format(PortConfig p) {
    String published = p.getPublishedPort() == 0 ? "" : Integer.toString(p.getPublishedPort());
    String scope = p.getPublishMode() == PortConfig.PublishMode.HOST ? "host" : "*";
    return scope + ":" + published + "->" + p.getTargetPort() + "/" + p.getProtocol().name().toLowerCase(Locale.ROOT);
  }

  /**
   * Whether {@code p} is the port {@code value} names for removal: a published port
   * ({@code 8080}, {@code 8080/udp}) or a full short or long form.
   */
  static boolean matches(String flag, String value, PortConfig p) {
    if (value.matches("\\d+(/\\w+)?")) {
      int slash = value.indexOf('/');
      int port = port(flag, value, slash < 0 ? value : value.substring(0, slash));
      return p.getPublishedPort() == port
          && (slash < 0 || p.getProtocol() == protocol(flag, value.substring(slash + 1)));
    }
    PortConfig wanted = parse(flag, value);
    return p.getPublishedPort() == wanted.getPublishedPort() && p.getTargetPort() == wanted.getTargetPort()
        && p.getProtocol() == wanted.getProtocol();
  }
}
