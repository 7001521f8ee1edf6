package dev.berth.cli.service;

import dev.berth.cli.service.SpecEdits.Edit;
import java.util.List;
import picocli.CommandLine.Option;

/**
 * The list-valued service flags. {@code service create} takes Docker's plain names
 * ({@code --env}); {@code service update} takes {@code --env-add}/{@code --env-rm}. Both only
 * declare flags and turn them into {@link SpecEdits}; the editing itself is shared.
 */
public final class ListOptions {
  private ListOptions() {}

  /** Flags of {@code service create}. */
  public static final class Create {
    @Option(names = {"-e", "--env"}, paramLabel = "KEY=VALUE", description = "Environment variable (repeatable).")
    List<String> env;

    @Option(names = {"-l", "--label"}, paramLabel = "KEY=VALUE", description = "Service label (repeatable).")
    List<String> labels;

    @Option(names = "--container-label", paramLabel = "KEY=VALUE", description = "Container label (repeatable).")
    List<String> containerLabels;

    @Option(names = "--constraint", paramLabel = "EXPR", description = "Placement constraint, e.g. node.labels.zone==a.")
    List<String> constraints;

    @Option(names = "--placement-pref", paramLabel = "spread=DESC", description = "Placement preference.")
    List<String> placementPrefs;

    @Option(names = {"-p", "--publish"}, paramLabel = "PORT", description = "Publish a port: 8080:80[/udp] or "
        + "mode=host|ingress,published=8080,target=80,protocol=tcp,proxy-protocol=true.")
    List<String> publish;

    @Option(names = "--network", paramLabel = "NAME", description = "Attach to a network (repeatable): NAME or "
        + "name=NAME,alias=ALIAS.")
    List<String> networks;

    SpecEdits edits() {
      return new SpecEdits(
          add("--env", env), add("--label", labels), add("--container-label", containerLabels),
          add("--constraint", constraints), add("--placement-pref", placementPrefs),
          add("--publish", publish), add("--network", networks));
    }

    private static Edit add(String flag, List<String> values) {
      return new Edit(flag, values, flag, List.of());
    }
  }

  /** Flags of {@code service update}. */
  public static final class Update {
    @Option(names = "--env-add", paramLabel = "KEY=VALUE", description = "Add or replace an environment variable.")
    List<String> envAdd;

    @Option(names = "--env-rm", paramLabel = "KEY", description = "Remove an environment variable.")
    List<String> envRm;

    @Option(names = "--label-add", paramLabel = "KEY=VALUE", description = "Add or replace a service label.")
    List<String> labelAdd;

    @Option(names = "--label-rm", paramLabel = "KEY", description = "Remove a service label.")
    List<String> labelRm;

    @Option(names = "--container-label-add", paramLabel = "KEY=VALUE", description = "Add a container label.")
    List<String> containerLabelAdd;

    @Option(names = "--container-label-rm", paramLabel = "KEY", description = "Remove a container label.")
    List<String> containerLabelRm;

    @Option(names = "--constraint-add", paramLabel = "EXPR", description = "Add a placement constraint.")
    List<String> constraintAdd;

    @Option(names = "--constraint-rm", paramLabel = "EXPR", description = "Remove a placement constraint.")
    List<String> constraintRm;

    @Option(names = "--placement-pref-add", paramLabel = "spread=DESC", description = "Add a placement preference.")
    List<String> placementPrefAdd;

    @Option(names = "--placement-pref-rm", paramLabel = "spread=DESC", description = "Remove a placement preference.")
    List<String> placementPrefRm;

    @Option(names = "--publish-add", paramLabel = "PORT", description = "Add or replace a published port.")
    List<String> publishAdd;

    @Option(names = "--publish-rm", paramLabel = "PORT", description = "Remove a published port (by published port).")
    List<String> publishRm;

    @Option(names = "--network-add", paramLabel = "NAME", description = "Attach to a network.")
    List<String> networkAdd;

    @Option(names = "--network-rm", paramLabel = "NAME", description = "Detach from a network.")
    List<String> networkRm;

    SpecEdits edits() {
      return new SpecEdits(
          new Edit("--env-add", envAdd, "--env-rm", envRm),
          new Edit("--label-add", labelAdd, "--label-rm", labelRm),
          new Edit("--container-label-add", containerLabelAdd, "--container-label-rm", containerLabelRm),
          new Edit("--constraint-add", constraintAdd, "--constraint-rm", constraintRm),
          new Edit("--placement-pref-add", placementPrefAdd, "--placement-pref-rm", placementPrefRm),
          new Edit("--publish-add", publishAdd, "--publish-rm", publishRm),
          new Edit("--network-add", networkAdd, "--network-rm", networkRm));
    }
  }
}
