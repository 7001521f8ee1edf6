package dev.berth.manager.image;

import dev.berth.api.v1.Service;
import dev.berth.api.v1.ServiceSpec;
import dev.berth.api.v1.Task;
import dev.berth.api.v1.TaskSpec;
import dev.berth.api.v1.WatchEvent;

/**
 * Keeps {@code --with-registry-auth} credentials ({@code ContainerSpec.registry_auth}) out of everything the
 * public API returns: reads show {@link #REDACTED} in their place. The store keeps the real value, which the
 * dispatcher hands to agents for their pulls.
 *
 * <p>Clients update services read-modify-write (the CLI sends back the spec it read), so a spec arriving with
 * {@link #REDACTED} means "keep the stored credentials": {@link #restore} puts them back before proposing.
 * Stateless; pure functions.
 */
public final class RegistryAuthRedaction {
    /** What reads show instead of credentials. Not valid base64, so it can never be taken for real ones. */
    public static final String REDACTED = "<redacted>";

    private RegistryAuthRedaction() {
    }

    public static Service redact(Service s) {
        if (!hasAuth(s.getSpec().getTask()) && !hasAuth(s.getPreviousSpec().getTask())) {
            return s;
        }
        Service.Builder b = s.toBuilder();
        redact(b.getSpecBuilder().getTaskBuilder());
        if (s.hasPreviousSpec()) {
            redact(b.getPreviousSpecBuilder().getTaskBuilder());
        }
        return b.build();
    }

    public static Task redact(Task t) {
        if (!hasAuth(t.getSpec())) {
            return t;
        }
        Task.Builder b = t.toBuilder();
        redact(b.getSpecBuilder());
        return b.build();
    }

    public static WatchEvent redact(WatchEvent e) {
        return switch (e.getObjectCase()) {
            case SERVICE -> hasAuth(e.getService().getSpec().getTask()) || hasAuth(e.getService().getPreviousSpec().getTask())
                    ? e.toBuilder().setService(redact(e.getService())).build() : e;
            case TASK -> hasAuth(e.getTask().getSpec()) ? e.toBuilder().setTask(redact(e.getTask())).build() : e;
            default -> e;
        };
    }

    /**
     * Replaces a {@link #REDACTED} placeholder in an incoming spec with the credentials of the stored spec
     * (none if the service has none, e.g. it does not exist).
     */
    public static ServiceSpec restore(ServiceSpec incoming, ServiceSpec stored) {
        if (!REDACTED.equals(incoming.getTask().getContainer().getRegistryAuth())) {
            return incoming;
        }
        ServiceSpec.Builder b = incoming.toBuilder();
        b.getTaskBuilder().getContainerBuilder().setRegistryAuth(stored.getTask().getContainer().getRegistryAuth());
        return b.build();
    }

    private static boolean hasAuth(TaskSpec t) {
        return !t.getContainer().getRegistryAuth().isEmpty();
    }

    private static void redact(TaskSpec.Builder t) {
        if (!t.getContainer().getRegistryAuth().isEmpty()) {
            t.getContainerBuilder().setRegistryAuth(REDACTED);
        }
    }
}
