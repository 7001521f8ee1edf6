package dev.berth.registry;

/**
 * Why an image operation failed. The message is written for the user (it ends up in the task's status), the
 * {@link Kind} is for code that reacts differently, e.g. retries an unreachable registry but not a missing image.
 */
public final class ImageException extends Exception {
    private static final long serialVersionUID = 1L;

    /** Failure classes callers may act on. */
    public enum Kind {
        /** Connection refused, DNS failure, timeout. Worth retrying later. */
        UNREACHABLE,
        /** The repository, tag, manifest or blob does not exist. */
        NOT_FOUND,
        /** Credentials missing, rejected, or access denied. */
        AUTH_FAILED,
        /** Content did not hash to the digest that named it; nothing of it was kept. */
        DIGEST_MISMATCH,
        /** Malformed reference, manifest, config or layer (including path-escaping tar entries). */
        INVALID,
        /** Well-formed but not supported here (a platform, media type or digest algorithm). */
        UNSUPPORTED,
        /** The registry answered with an unexpected status. */
        REGISTRY_ERROR,
        /** Local disk or helper-process failure. */
        LOCAL_IO
    }

    private final Kind kind;

    public ImageException(Kind kind, String message) {
        super(message);
        this.kind = kind;
    }

    public ImageException(Kind kind, String message, Throwable cause) {
        super(message, cause);
        this.kind = kind;
    }

    public Kind kind() {
        return kind;
    }

    /** Content that did not hash to the digest naming it. */
    public static ImageException digestMismatch(String what, Digest expected, Digest actual) {
        return new ImageException(Kind.DIGEST_MISMATCH, what + ": digest mismatch: expected " + expected
                + ", content hashes to " + actual + "; discarded");
    }
}
