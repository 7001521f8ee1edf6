package dev.berth.cli.service;

import dev.berth.api.v1.ContainerSpec;
import dev.berth.api.v1.EndpointSpec;
import dev.berth.api.v1.NetworkAttachmentConfig;
import dev.berth.api.v1.Placement;
import dev.berth.api.v1.PlacementPreference;
import dev.berth.api.v1.PortConfig;
import dev.berth.api.v1.ServiceSpec;
import dev.berth.api.v1.TaskSpec;
import dev.berth.cli.KeyValue;
import dev.berth.cli.UserException;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * Additions to and removals from a spec's list-valued fields. {@code service create}'s
 * {@code --env} and {@code service update}'s {@code --env-add} both become additions here, so one
 * piece of code edits lists for both commands. Removals apply before additions, so
 * {@code --env-rm A --env-add A=2} replaces A. Every list flag name appears in errors as typed.
 */
public record SpecEdits(
    Edit env, Edit labels, Edit containerLabels, Edit constraints, Edit placementPrefs,
    Edit publish, Edit networks) {

  /** Values to remove and to add for one list, with the flag names used in messages. */
  public record Edit(String addFlag, List<String> add, String rmFlag, List<String> rm) {
    public Edit {
      add = add == null ? List.of() : List.copyOf(add);
      rm = rm == null ? List.of() : List.copyOf(rm);
    }
  }

  private static final Pattern CONSTRAINT = Pattern.compile("\\s*[A-Za-z0-9_.\\-]+\\s*(==|!=)\\s*\\S.*");

  /** Applies every edit to {@code spec}; throws {@link UserException} naming the flag of a bad value. */
  public void applyTo(ServiceSpec.Builder spec) {
    // Builders are fetched only for lists being edited (getXBuilder() marks a message as set).
    if (!env.add().isEmpty() || !env.rm().isEmpty()) {
      ContainerSpec.Builder container = spec.getTaskBuilder().getContainerBuilder();
      List<String> vars = new ArrayList<>(container.getEnvList());
      for (String rm : env.rm()) {
        vars.removeIf(v -> v.equals(rm) || key(v).equals(rm));
      }
      for (String add : env.add()) {
        if (add.indexOf('=') <= 0) {
          throw UserException.field(env.addFlag(), "'" + add + "' is not KEY=VALUE");
        }
        vars.removeIf(v -> key(v).equals(key(add)));
        vars.add(add);
      }
      container.clearEnv().addAllEnv(vars);
    }
    editMap(labels, spec.getLabelsMap(), spec::putLabels, spec::removeLabels);
    if (!containerLabels.add().isEmpty() || !containerLabels.rm().isEmpty()) {
      ContainerSpec.Builder container = spec.getTaskBuilder().getContainerBuilder();
      editMap(containerLabels, container.getLabelsMap(), container::putLabels, container::removeLabels);
    }
    if (!constraints.add().isEmpty() || !constraints.rm().isEmpty()) {
      Placement.Builder placement = spec.getTaskBuilder().getPlacementBuilder();
      List<String> list = new ArrayList<>(placement.getConstraintsList());
      list.removeAll(constraints.rm());
      for (String c : constraints.add()) {
        if (!CONSTRAINT.matcher(c).matches()) {
          throw UserException.field(constraints.addFlag(),
              "'" + c + "' is not KEY==VALUE or KEY!=VALUE (e.g. node.labels.zone==a)");
        }
        if (!list.contains(c)) {
          list.add(c);
        }
      }
      placement.clearConstraints().addAllConstraints(list);
    }
    if (!placementPrefs.add().isEmpty() || !placementPrefs.rm().isEmpty()) {
      Placement.Builder placement = spec.getTaskBuilder().getPlacementBuilder();
      List<PlacementPreference> list = new ArrayList<>(placement.getPreferencesList());
      for (String rm : placementPrefs.rm()) {
        list.remove(preference(placementPrefs.rmFlag(), rm));
      }
      for (String add : placementPrefs.add()) {
        list.add(preference(placementPrefs.addFlag(), add));
      }
      placement.clearPreferences().addAllPreferences(list);
    }
    if (!publish.add().isEmpty() || !publish.rm().isEmpty()) {
      EndpointSpec.Builder endpoint = spec.getEndpointBuilder();
      List<PortConfig> ports = new ArrayList<>(endpoint.getPortsList());
      for (String rm : publish.rm()) {
        ports.removeIf(p -> PortSpecs.matches(publish.rmFlag(), rm, p));
      }
      for (String add : publish.add()) {
        PortConfig p = PortSpecs.parse(publish.addFlag(), add);
        ports.removeIf(old -> p.getPublishedPort() != 0 && old.getPublishedPort() == p.getPublishedPort()
            && old.getProtocol() == p.getProtocol());
        ports.add(p);
      }
      endpoint.clearPorts().addAllPorts(ports);
    }
    if (!networks.add().isEmpty() || !networks.rm().isEmpty()) {
      TaskSpec.Builder task = spec.getTaskBuilder();
      List<NetworkAttachmentConfig> list = new ArrayList<>(task.getNetworksList());
      list.removeIf(n -> networks.rm().contains(n.getTarget()));
      for (String add : networks.add()) {
        NetworkAttachmentConfig wanted = NetworkSpecs.parse(networks.addFlag(), add);
        list.removeIf(n -> n.getTarget().equals(wanted.getTarget()));
        list.add(wanted);
      }
      task.clearNetworks().addAllNetworks(list);
    }
  }

  private interface Put {
    void put(String k, String v);
  }

  private static void editMap(Edit edit, java.util.Map<String, String> current, Put put,
      java.util.function.Consumer<String> remove) {
    for (String rm : edit.rm()) {
      if (current.containsKey(rm)) {
        remove.accept(rm);
      }
    }
    for (String add : edit.add()) {
      KeyValue kv = KeyValue.parse(edit.addFlag(), add);
      put.put(kv.key(), kv.value());
    }
  }

  private static PlacementPreference preference(String flag, String value) {
    String prefix = "spread=";
    if (!value.startsWith(prefix) || value.length() == prefix.length()) {
      throw UserException.field(flag, "'" + value + "' is not spread=DESCRIPTOR (e.g. spread=node.labels.zone)");
    }
    return PlacementPreference.newBuilder().setSpreadDescriptor(value.substring(prefix.length())).build();
  }

  private static String key(String kv) {
    int eq = kv.indexOf('=');
    return eq < 0 ? kv : kv.substring(0, eq);
  }
}
