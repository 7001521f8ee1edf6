package dev.berth.registry;

import java.util.Optional;
import java.util.regex.Pattern;

/**
 * An image reference normalized the way Docker normalizes it: {@code busybox} is
 * {@code docker.io/library/busybox:latest}; {@code host:5000/ns/name:tag} keeps its registry; a digest
 * ({@code name@sha256:...}) pins content and, when present, is what gets pulled. Immutable value.
 *
 * @param registry   registry host[:port] as written ("docker.io" for Docker Hub)
 * @param repository repository path inside the registry, e.g. "library/busybox"
 * @param tag        tag, or null when only a digest was given
 * @param digest     pinned digest, or null
 */
public record ImageReference(String registry, String repository, String tag, Digest digest) {
    public static final String DOCKER_HUB = "docker.io";
    private static final Pattern COMPONENT = Pattern.compile("[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*");
    private static final Pattern TAG = Pattern.compile("[\\w][\\w.-]{0,127}");
    private static final Pattern HOST = Pattern.compile("[a-zA-Z0-9.-]+(?::[0-9]+)?|\\[[0-9a-fA-F:]+\\](?::[0-9]+)?");

    /** Parses and normalizes a reference; errors name the offending part. */
    public static ImageReference parse(String ref) throws ImageException {
        if (ref == null || ref.isBlank()) {
            throw invalid(ref, "empty reference");
        }
        String rest = ref.trim();
        Digest digest = null;
        int at = rest.indexOf('@');
        if (at >= 0) {
            digest = Digest.parse(rest.substring(at + 1));
            rest = rest.substring(0, at);
        }
        String tag = null;
        int lastColon = rest.lastIndexOf(':');
        if (lastColon > rest.lastIndexOf('/')) {
            tag = rest.substring(lastColon + 1);
            rest = rest.substring(0, lastColon);
            if (!TAG.matcher(tag).matches()) {
                throw invalid(ref, "invalid tag '" + tag + "'");
            }
        }
        String registry = DOCKER_HUB;
        String path = rest;
        int slash = rest.indexOf('/');
        if (slash > 0) {
            String first = rest.substring(0, slash);
            if (first.contains(".") || first.contains(":") || first.equals("localhost")
                    || !first.equals(first.toLowerCase())) {
                registry = first;
                path = rest.substring(slash + 1);
                if (!HOST.matcher(registry).matches()) {
                    throw invalid(ref, "invalid registry host '" + registry + "'");
                }
            }
        }
        if (registry.equals("index.docker.io")) {
            registry = DOCKER_HUB;
        }
        if (registry.equals(DOCKER_HUB) && !path.contains("/")) {
            path = "library/" + path;
        }
        for (String component : path.split("/", -1)) {
            if (!COMPONENT.matcher(component).matches()) {
                throw invalid(ref, "invalid repository name component '" + component
                        + "' (lower-case letters, digits and separators only)");
            }
        }
        if (tag == null && digest == null) {
            tag = "latest";
        }
        return new ImageReference(registry, path, tag, digest);
    }

    private static ImageException invalid(String ref, String why) {
        return new ImageException(ImageException.Kind.INVALID, "invalid image reference '" + ref + "': " + why);
    }

    /** The host:port the v2 API is served on (Docker Hub's API host differs from its name). */
    public String apiHost() {
        return registry.equals(DOCKER_HUB) ? "registry-1.docker.io" : registry;
    }

    /** The manifest reference: the digest when pinned, else the tag. */
    public String manifestReference() {
        return digest != null ? digest.toString() : tag;
    }

    public Optional<Digest> pinnedDigest() {
        return Optional.ofNullable(digest);
    }

    /** This reference pinned to a digest (the tag, if any, is kept for display). */
    public ImageReference withDigest(Digest d) {
        return new ImageReference(registry, repository, tag, d);
    }

    /** "registry/repository" without tag or digest. */
    public String name() {
        return registry + "/" + repository;
    }

    @Override
    public String toString() {
        return name() + (tag != null ? ":" + tag : "") + (digest != null ? "@" + digest : "");
    }
}
