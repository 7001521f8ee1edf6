package dev.berth.manager.image;

import dev.berth.api.v1.ContainerSpec;
import dev.berth.api.v1.Placement;
import dev.berth.api.v1.Platform;
import dev.berth.api.v1.ServiceSpec;
import dev.berth.registry.ImageException;
import dev.berth.registry.ImageResolver;
import dev.berth.registry.RegistryClient;
import dev.berth.registry.RegistryCredentials;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.time.Clock;
import java.time.Duration;
import java.util.HashSet;
import java.util.Set;

/**
 * Pins a service's image before its spec is proposed, so every replica runs the same bits: the tag is
 * resolved to the registry's manifest digest ({@code ContainerSpec.image_digest}) and the platforms that
 * content runs on fill {@code Placement.platforms} for the scheduler. Credentials come from the spec's
 * {@code registry_auth} ({@code --with-registry-auth}).
 *
 * <p>Runs in the API handler, before proposing, never inside apply: apply must be deterministic and never
 * wait on the network. Thread-safe and blocking (one manifest GET, plus a config blob for a single-platform
 * image; bounded by the client's timeouts).
 *
 * <p>Error contract: an image that cannot be resolved is INVALID_ARGUMENT (not found, malformed, refused
 * credentials) or UNAVAILABLE (registry unreachable or erring, worth a retry), with a message naming the image
 * and the way out for images that live only on the nodes ({@code --no-resolve-image}). Nothing is proposed
 * then, so state is unchanged.
 */
public final class ImagePinner {
    private final ImageResolver resolver;

    private ImagePinner(ImageResolver resolver) {
        this.resolver = resolver;
    }

    /** A pinner that never resolves: for in-process test clusters and managers that must not reach out. */
    public static ImagePinner off() {
        return new ImagePinner(null);
    }

    /**
     * A pinner speaking to registries directly.
     *
     * @param insecureRegistries "host[:port]" spoken to in plain HTTP ({@code --insecure-registry}); loopback
     *                           addresses always are, as in Docker
     */
    public static ImagePinner using(Set<String> insecureRegistries, Clock clock) {
        // Shorter than an agent's pull timeouts: a user waits on this at `service create`.
        return new ImagePinner(new ImageResolver(new RegistryClient(insecureRegistries, Duration.ofSeconds(5),
                Duration.ofSeconds(20), clock)));
    }

    public boolean enabled() {
        return resolver != null;
    }

    /**
     * Returns the spec with its image pinned, or unchanged when resolution is off, was declined
     * ({@code skip}), or the spec is already pinned (a digest set by the client or kept from a previous version).
     */
    public ServiceSpec pin(ServiceSpec spec, boolean skip) {
        ContainerSpec c = spec.getTask().getContainer();
        if (resolver == null || skip || !c.getImageDigest().isEmpty()) {
            return spec;
        }
        ImageResolver.Resolution r;
        try {
            r = resolver.resolve(c.getImage(), RegistryCredentials.fromBase64(c.getRegistryAuth()));
        } catch (ImageException e) {
            throw failure(c.getImage(), e);
        }
        ServiceSpec.Builder b = spec.toBuilder();
        b.getTaskBuilder().getContainerBuilder().setImageDigest(r.digest().toString());
        Placement.Builder placement = b.getTaskBuilder().getPlacementBuilder().clearPlatforms();
        Set<String> seen = new HashSet<>(); // Platform has no variant: linux/arm/v6 and /v7 are one entry
        for (String p : r.platforms()) {
            String[] parts = p.split("/");
            String arch = parts.length > 1 ? parts[1] : "";
            if (seen.add(parts[0] + "/" + arch)) {
                placement.addPlatforms(Platform.newBuilder().setOs(parts[0]).setArchitecture(arch));
            }
        }
        return b.build();
    }

    private static StatusRuntimeException failure(String image, ImageException e) {
        Status status = switch (e.kind()) {
            case UNREACHABLE, REGISTRY_ERROR, LOCAL_IO -> Status.UNAVAILABLE;
            default -> Status.INVALID_ARGUMENT;
        };
        String hint = e.kind() == ImageException.Kind.NOT_FOUND
                ? " (an image only imported on the nodes with `berth image import` has no registry: use --no-resolve-image)"
                : e.kind() == ImageException.Kind.AUTH_FAILED ? " (pass credentials with --with-registry-auth)" : "";
        return status.withDescription("spec.task.container.image: cannot resolve \"" + image + "\" to a digest: "
                + e.getMessage() + hint).asRuntimeException();
    }
}
