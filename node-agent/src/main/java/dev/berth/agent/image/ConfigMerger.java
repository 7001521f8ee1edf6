package dev.berth.agent.image;

import dev.berth.registry.ImageException;
import dev.berth.agent.health.HealthChecks;
import dev.berth.api.v1.ContainerSpec;
import dev.berth.api.v1.HealthCheck;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Applies an image's config to a service's {@link ContainerSpec} the way {@code docker run} / Swarm do. Pure
 * function, thread-safe.
 *
 * <p>The result is the same message with every field made effective: {@code command} is the effective
 * Entrypoint and {@code args} the effective Cmd (so argv = command + args), {@code env} the merged
 * environment, {@code dir}, {@code user}, {@code stop_signal} and {@code healthcheck} filled from the image
 * where the spec leaves them unset. Rules (Docker's documented behaviour):
 * <ul>
 *   <li>spec command (Docker {@code --entrypoint}) replaces the image Entrypoint <em>and</em> discards the
 *       image Cmd; spec args then are the whole Cmd;</li>
 *   <li>without a spec command, spec args replace the image Cmd; the Entrypoint stays;</li>
 *   <li>env: image Env first, spec entries override by key (spec wins), new keys appended in spec order;
 *       PATH defaults to Docker's default path when neither sets it;</li>
 *   <li>working dir: spec, else image, else "/"; a relative spec dir is an error (as in Docker);</li>
 *   <li>user and stop signal: spec, else image, else root and SIGTERM;</li>
 *   <li>health check: {@link HealthChecks#effective} (the one place that rule lives): the spec's probe or
 *       else the image's, each unset timing from the image, then Docker's defaults; ["NONE"] disables;</li>
 *   <li>labels: image labels, spec labels winning.</li>
 * </ul>
 */
public final class ConfigMerger {
    /** Docker's default PATH for Linux containers (moby's oci.DefaultPathEnv). */
    public static final String DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

    private ConfigMerger() {
    }

    /** @throws ImageException INVALID when no command results or the spec's dir is relative */
    public static ContainerSpec merge(ImageConfig image, ContainerSpec spec) throws ImageException {
        List<String> entrypoint;
        List<String> cmd;
        if (spec.getCommandCount() > 0) {
            entrypoint = spec.getCommandList();
            cmd = spec.getArgsList();
        } else {
            entrypoint = image.entrypoint() == null ? List.of() : image.entrypoint();
            cmd = spec.getArgsCount() > 0 ? spec.getArgsList() : image.cmd() == null ? List.of() : image.cmd();
        }
        if (entrypoint.isEmpty() && cmd.isEmpty()) {
            throw new ImageException(ImageException.Kind.INVALID,
                    "no command specified: image " + spec.getImage() + " has no Entrypoint or Cmd and the service gives none");
        }
        String dir = spec.getDir();
        if (!dir.isEmpty() && !dir.startsWith("/")) {
            throw new ImageException(ImageException.Kind.INVALID,
                    "the working directory '" + dir + "' is invalid, it needs to be an absolute path");
        }
        if (dir.isEmpty()) {
            dir = image.workingDir().isEmpty() ? "/" : image.workingDir();
        }
        if (!dir.startsWith("/")) {
            dir = "/" + dir; // images built with a relative WORKDIR are relative to /
        }
        ContainerSpec.Builder out = spec.toBuilder()
                .clearCommand().addAllCommand(entrypoint)
                .clearArgs().addAllArgs(cmd)
                .clearEnv().addAllEnv(mergeEnv(image.env(), spec.getEnvList()))
                .setDir(Path.of(dir).normalize().toString())
                .setUser(!spec.getUser().isEmpty() ? spec.getUser() : image.user())
                .setStopSignal(normalizeSignal(!spec.getStopSignal().isEmpty() ? spec.getStopSignal()
                        : !image.stopSignal().isEmpty() ? image.stopSignal() : "SIGTERM"));
        Map<String, String> labels = new LinkedHashMap<>(image.labels());
        labels.putAll(spec.getLabelsMap());
        out.clearLabels().putAllLabels(labels);
        Optional<HealthCheck> hc;
        try {
            hc = HealthChecks.effective(spec.getHealthcheck(), Optional.ofNullable(image.healthcheck()));
        } catch (IllegalArgumentException e) {
            throw new ImageException(ImageException.Kind.INVALID, "image " + spec.getImage() + ": " + e.getMessage(), e);
        }
        hc.ifPresentOrElse(out::setHealthcheck, out::clearHealthcheck);
        return out.build();
    }

    /** The effective argv of a merged spec. */
    public static List<String> argv(ContainerSpec merged) {
        List<String> argv = new ArrayList<>(merged.getCommandList());
        argv.addAll(merged.getArgsList());
        return argv;
    }

    static List<String> mergeEnv(List<String> image, List<String> spec) {
        Map<String, String> byKey = new LinkedHashMap<>();
        for (String e : image) {
            byKey.put(key(e), e);
        }
        for (String e : spec) {
            byKey.put(key(e), e);
        }
        if (!byKey.containsKey("PATH")) {
            byKey.put("PATH", "PATH=" + DEFAULT_PATH);
        }
        return List.copyOf(byKey.values());
    }

    private static String key(String kv) {
        int eq = kv.indexOf('=');
        return eq < 0 ? kv : kv.substring(0, eq);
    }

    static String normalizeSignal(String s) {
        String u = s.trim().toUpperCase(java.util.Locale.ROOT);
        if (u.chars().allMatch(Character::isDigit)) {
            return u;
        }
        return u.startsWith("SIG") ? u : "SIG" + u;
    }
}
