package dev.berth.registry;

import java.nio.charset.StandardCharsets;
import java.util.Base64;

/**
 * Credentials for one registry: anonymous, or a user name and password (also used to obtain bearer tokens).
 * {@link #toString()} never shows the password.
 */
public record RegistryCredentials(String username, String password) {
    private static final RegistryCredentials ANONYMOUS = new RegistryCredentials(null, null);

    public static RegistryCredentials anonymous() {
        return ANONYMOUS;
    }

    public static RegistryCredentials of(String username, String password) {
        return new RegistryCredentials(username, password);
    }

    /**
     * Decodes the base64 "user:password" form that {@code --with-registry-auth} puts into
     * {@code ContainerSpec.registry_auth}; empty means anonymous.
     */
    public static RegistryCredentials fromBase64(String encoded) throws ImageException {
        if (encoded == null || encoded.isEmpty()) {
            return ANONYMOUS;
        }
        String plain;
        try {
            plain = new String(Base64.getDecoder().decode(encoded.trim()), StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            throw new ImageException(ImageException.Kind.AUTH_FAILED, "registry auth is not valid base64");
        }
        int colon = plain.indexOf(':');
        if (colon < 0) {
            throw new ImageException(ImageException.Kind.AUTH_FAILED,
                    "registry auth must be base64 of \"user:password\"");
        }
        return new RegistryCredentials(plain.substring(0, colon), plain.substring(colon + 1));
    }

    public boolean isAnonymous() {
        return username == null;
    }

    /** The value of an HTTP Basic Authorization header. */
    String basicHeader() {
        return "Basic " + Base64.getEncoder().encodeToString(
                (username + ":" + password).getBytes(StandardCharsets.UTF_8));
    }

    @Override
    public String toString() {
        return isAnonymous() ? "anonymous" : "user " + username;
    }
}
