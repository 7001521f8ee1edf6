package dev.berth.manager.orchestrator;

import java.security.SecureRandom;

/**
 * Makes object ids on the proposing side (ids travel inside log entries; apply never
 * generates them).
 *
 * <p>Thread model: implementations are thread-safe.
 */
@FunctionalInterface
public interface IdGenerator {
  String next();

  /** 25 lowercase base-36 characters (~129 bits) from a {@link SecureRandom}. */
  static IdGenerator random() {
    SecureRandom random = new SecureRandom();
    char[] alphabet = "0123456789abcdefghijklmnopqrstuvwxyz".toCharArray();
    return () -> {
      char[] id = new char[25];
      synchronized (random) {
        for (int i = 0; i < id.length; i++) {
          id[i] = alphabet[random.nextInt(alphabet.length)];
        }
      }
      return new String(id);
    };
  }
}
