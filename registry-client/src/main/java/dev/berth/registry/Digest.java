package dev.berth.registry;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.regex.Pattern;

/** A content digest, "sha256:&lt;64 hex&gt;". Only sha256 is supported (as by Docker and containerd defaults). */
public record Digest(String hex) {
    private static final Pattern HEX = Pattern.compile("[0-9a-f]{64}");

    public Digest {
        if (!HEX.matcher(hex).matches()) {
            throw new IllegalArgumentException("not a sha256 hex digest: " + hex);
        }
    }

    /** Parses "sha256:HEX"; other algorithms are refused with a clear message. */
    public static Digest parse(String s) throws ImageException {
        int colon = s.indexOf(':');
        if (colon <= 0) {
            throw new ImageException(ImageException.Kind.INVALID, "invalid digest '" + s + "': expected sha256:<hex>");
        }
        String algo = s.substring(0, colon);
        if (!algo.equals("sha256")) {
            throw new ImageException(ImageException.Kind.UNSUPPORTED,
                    "unsupported digest algorithm '" + algo + "' in '" + s + "' (only sha256)");
        }
        String hex = s.substring(colon + 1);
        if (!HEX.matcher(hex).matches()) {
            throw new ImageException(ImageException.Kind.INVALID,
                    "invalid digest '" + s + "': expected 64 lower-case hex characters");
        }
        return new Digest(hex);
    }

    public static Digest of(byte[] content) {
        return fromHash(newHasher().digest(content));
    }

    public static Digest fromHash(byte[] sha256) {
        return new Digest(HexFormat.of().formatHex(sha256));
    }

    public static MessageDigest newHasher() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has SHA-256", e);
        }
    }

    @Override
    public String toString() {
        return "sha256:" + hex;
    }
}
