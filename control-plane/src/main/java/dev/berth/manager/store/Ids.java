package dev.berth.manager.store;

import java.security.SecureRandom;

/**
 * Object ids: 25 random lowercase base-36 characters (~129 bits), as Swarm's. Generated
 * on the proposing side and carried in log entries; apply never generates ids.
 *
 * <p>Thread model: thread-safe.
 */
public final class Ids {
  private static final SecureRandom RANDOM = new SecureRandom();
  private static final char[] DIGITS = "0123456789abcdefghijklmnopqrstuvwxyz".toCharArray();
  public static final int LENGTH = 25;

  private Ids() {}

  public static String newId() {
    char[] out = new char[LENGTH];
    for (int i = 0; i < LENGTH; i++) {
      out[i] = DIGITS[RANDOM.nextInt(DIGITS.length)];
    }
    return new String(out);
  }
}
