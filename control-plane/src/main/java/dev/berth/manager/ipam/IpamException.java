package dev.berth.manager.ipam;

/**
 * A refused IPAM request. Thrown before any state changed, so the allocator is exactly
 * as it was; the message names the problem (and the conflicting object, where there is
 * one) for the user.
 */
public final class IpamException extends Exception {

  /** Why a request was refused; maps onto the API's error codes. */
  public enum Reason {
    /** Malformed or out-of-range input. */
    INVALID_ARGUMENT,
    /** Clashes with an existing network or allocation. */
    CONFLICT,
    /** No VNI, subnet or address left. */
    EXHAUSTED,
    /** Names a network or owner IPAM does not know. */
    NOT_FOUND
  }

  private final Reason reason;

  public IpamException(Reason reason, String message) {
    super(message);
    this.reason = reason;
  }

  public Reason reason() {
    return reason;
  }

  static IpamException invalid(String message) {
    return new IpamException(Reason.INVALID_ARGUMENT, message);
  }
}
