package dev.berth.manager.store;

import dev.berth.scheduler.Constraint;
import dev.berth.scheduler.NodeAttribute;

import dev.berth.api.v1.NetworkSpec;
import dev.berth.manager.ipam.IpamException;
import dev.berth.manager.ipam.Ipv4Subnet;
import dev.berth.api.v1.PortConfig;
import dev.berth.api.v1.Resources;
import dev.berth.api.v1.ServiceSpec;
import dev.berth.api.v1.TaskSpec;
import java.util.HashSet;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Field-level validation of user-supplied specs. Messages start with the field path
 * ({@code spec.task.container.image: must not be empty}) so the CLI can show them as is.
 * Used both by the API (early rejection) and by apply (authoritative re-check).
 *
 * <p>Thread model: stateless, thread-safe. Error contract: throws {@link ApplyException}
 * with code INVALID_ARGUMENT on the first bad field.
 */
public final class SpecValidator {
  /** Largest serialized spec accepted; the gRPC inbound limit is set well above it. */
  public static final int MAX_SPEC_BYTES = 1 << 20;

  /** Largest replica count; also catches negative numbers sent through the uint64 field. */
  public static final long MAX_REPLICAS = 100_000;

  private static final Pattern NAME = Pattern.compile("[a-zA-Z0-9][a-zA-Z0-9_.-]{0,62}");
  private static final Pattern ENV_KEY = Pattern.compile("[^=\\s][^=]*");
  private static final Pattern REQUEST_ID = Pattern.compile("[\\x21-\\x7e]{1,64}");

  private SpecValidator() {}

  public static void validateRequestId(String requestId) {
    if (!requestId.isEmpty() && !REQUEST_ID.matcher(requestId).matches()) {
      throw ApplyException.invalid(
          "write.request_id: must be 1..64 printable ASCII characters without spaces");
    }
  }

  public static boolean isValidRequestId(String requestId) {
    return REQUEST_ID.matcher(requestId).matches();
  }

  public static void validateService(ServiceSpec spec) {
    int size = spec.getSerializedSize();
    if (size > MAX_SPEC_BYTES) {
      throw ApplyException.invalid(
          "spec: " + size + " bytes exceeds the limit of " + MAX_SPEC_BYTES + " bytes (1 MiB)");
    }
    validateName("spec.name", spec.getName());
    if (spec.getModeCase() == ServiceSpec.ModeCase.REPLICATED) {
      long replicas = spec.getReplicated().getReplicas();
      if (replicas < 0) {
        throw ApplyException.invalid(
            "spec.replicated.replicas: must be >= 0 (got " + replicas + ")");
      }
      if (replicas > MAX_REPLICAS) {
        throw ApplyException.invalid(
            "spec.replicated.replicas: must be <= " + MAX_REPLICAS + " (got " + replicas + ")");
      }
    }
    validateTask(spec.getTask());
    validatePorts(spec);
  }

  private static void validateTask(TaskSpec task) {
    if (task.getContainer().getImage().isBlank()) {
      throw ApplyException.invalid("spec.task.container.image: must not be empty");
    }
    for (int i = 0; i < task.getContainer().getEnvCount(); i++) {
      String env = task.getContainer().getEnv(i);
      int eq = env.indexOf('=');
      if (eq <= 0 || !ENV_KEY.matcher(env.substring(0, eq)).matches()) {
        throw ApplyException.invalid(
            "spec.task.container.env[" + i + "]: must be KEY=VALUE (got \"" + env + "\")");
      }
    }
    if (task.getContainer().getStopGracePeriodMs() < 0) {
      throw ApplyException.invalid("spec.task.container.stop_grace_period_ms: must be >= 0");
    }
    Resources lim = task.getResources().getLimits();
    Resources res = task.getResources().getReservations();
    nonNegative("spec.task.resources.limits.nano_cpus", lim.getNanoCpus());
    nonNegative("spec.task.resources.limits.memory_bytes", lim.getMemoryBytes());
    nonNegative("spec.task.resources.reservations.nano_cpus", res.getNanoCpus());
    nonNegative("spec.task.resources.reservations.memory_bytes", res.getMemoryBytes());
    nonNegative("spec.task.resources.pids_limit", task.getResources().getPidsLimit());
    if (lim.getNanoCpus() > 0 && res.getNanoCpus() > lim.getNanoCpus()) {
      throw ApplyException.invalid(
          "spec.task.resources.reservations.nano_cpus: must not exceed limits.nano_cpus");
    }
    if (lim.getMemoryBytes() > 0 && res.getMemoryBytes() > lim.getMemoryBytes()) {
      throw ApplyException.invalid(
          "spec.task.resources.reservations.memory_bytes: must not exceed limits.memory_bytes");
    }
    nonNegative("spec.task.restart_policy.delay_ms", task.getRestartPolicy().getDelayMs());
    nonNegative("spec.task.restart_policy.window_ms", task.getRestartPolicy().getWindowMs());
    for (int i = 0; i < task.getPlacement().getConstraintsCount(); i++) {
      try {
        Constraint.parse(task.getPlacement().getConstraints(i));
      } catch (IllegalArgumentException e) {
        throw ApplyException.invalid("spec.task.placement.constraints[" + i + "]: " + e.getMessage());
      }
    }
    for (int i = 0; i < task.getPlacement().getPreferencesCount(); i++) {
      String descriptor = task.getPlacement().getPreferences(i).getSpreadDescriptor();
      try {
        NodeAttribute.parse(descriptor);
      } catch (IllegalArgumentException e) {
        throw ApplyException.invalid("spec.task.placement.preferences[" + i
            + "].spread_descriptor: invalid placement preference \"" + descriptor + "\": " + e.getMessage());
      }
    }
    for (int i = 0; i < task.getNetworksCount(); i++) {
      if (task.getNetworks(i).getTarget().isEmpty()) {
        throw ApplyException.invalid("spec.task.networks[" + i + "].target: must not be empty");
      }
    }
  }

  private static void validatePorts(ServiceSpec spec) {
    Set<String> published = new HashSet<>();
    for (int i = 0; i < spec.getEndpoint().getPortsCount(); i++) {
      PortConfig p = spec.getEndpoint().getPorts(i);
      String f = "spec.endpoint.ports[" + i + "]";
      if (p.getTargetPort() < 1 || p.getTargetPort() > 65535) {
        throw ApplyException.invalid(f + ".target_port: must be 1..65535 (got "
            + Integer.toUnsignedString(p.getTargetPort()) + ")");
      }
      if (p.getPublishedPort() > 65535) {
        throw ApplyException.invalid(f + ".published_port: must be 0..65535 (got "
            + Integer.toUnsignedString(p.getPublishedPort()) + ")");
      }
      if (p.getPublishedPort() == 0 && p.getPublishMode() == PortConfig.PublishMode.INGRESS) {
        throw ApplyException.invalid(f + ".published_port: the routing mesh (mode ingress) needs a "
            + "published port, e.g. --publish 8080:" + p.getTargetPort());
      }
      if (p.getPublishedPort() != 0
          && !published.add(p.getProtocol() + "/" + p.getPublishedPort())) {
        throw ApplyException.invalid(f + ".published_port: " + p.getPublishedPort() + "/"
            + p.getProtocol().name().toLowerCase() + " is published twice");
      }
    }
  }

  public static void validateNetwork(NetworkSpec spec) {
    if (spec.getSerializedSize() > MAX_SPEC_BYTES) {
      throw ApplyException.invalid("spec: exceeds the limit of " + MAX_SPEC_BYTES + " bytes");
    }
    validateName("spec.name", spec.getName());
    if (!spec.getDriver().isEmpty() && !spec.getDriver().equals("overlay")) {
      throw ApplyException.invalid(
          "spec.driver: only \"overlay\" is supported (got \"" + spec.getDriver() + "\")");
    }
    if (!spec.getSubnet().isEmpty()) {
      Ipv4Subnet subnet = subnet("spec.subnet", spec.getSubnet());
      if (!spec.getGateway().isEmpty() && !subnet.contains(address("spec.gateway", spec.getGateway()))) {
        throw ApplyException.invalid(
            "spec.gateway: " + spec.getGateway() + " is outside spec.subnet " + spec.getSubnet());
      }
    } else if (!spec.getGateway().isEmpty()) {
      throw ApplyException.invalid("spec.gateway: needs spec.subnet");
    }
  }

  private static Ipv4Subnet subnet(String field, String text) {
    try {
      return Ipv4Subnet.parse(text);
    } catch (IpamException e) {
      throw ApplyException.invalid(field + ": " + e.getMessage());
    }
  }

  private static int address(String field, String text) {
    try {
      return Ipv4Subnet.parseAddress(text);
    } catch (IpamException e) {
      throw ApplyException.invalid(field + ": " + e.getMessage());
    }
  }

  static void validateName(String field, String name) {
    if (name.isEmpty()) {
      throw ApplyException.invalid(field + ": must not be empty");
    }
    if (!NAME.matcher(name).matches()) {
      throw ApplyException.invalid(field + ": \"" + name
          + "\" must be 1..63 characters of [a-zA-Z0-9_.-], starting with a letter or digit");
    }
  }

  private static void nonNegative(String field, long v) {
    if (v < 0) {
      throw ApplyException.invalid(field + ": must be >= 0 (got " + v + ")");
    }
  }
}
