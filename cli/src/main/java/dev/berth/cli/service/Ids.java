package dev.berth.cli.service;

/** Display forms of object ids. */
public final class Ids {
  /** Docker shows 12 characters of an id unless --no-trunc. */
  public static final int SHORT = 12;

  private Ids() {}

  public static String shortId(String id) {
    return id.length() <= SHORT ? id : id.substring(0, SHORT);
  }
}
