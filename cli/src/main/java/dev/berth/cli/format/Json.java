package dev.berth.cli.format;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.MessageOrBuilder;
import com.google.protobuf.util.JsonFormat;
import java.io.PrintWriter;
import java.util.List;

/**
 * Machine-readable output: protobuf's canonical JSON mapping (field names in lowerCamelCase, 64-bit
 * integers as strings, enums by name). Fields at their default value are printed too, so scripts
 * can rely on every field being present.
 */
public final class Json {
  private Json() {}

  public static String of(MessageOrBuilder message) {
    try {
      return JsonFormat.printer().alwaysPrintFieldsWithNoPresence().print(message);
    } catch (InvalidProtocolBufferException e) {
      // Only thrown for Any fields with unknown types, which the API does not use.
      throw new IllegalStateException(e);
    }
  }

  public static void print(PrintWriter out, MessageOrBuilder message) {
    out.println(of(message));
    out.flush();
  }

  /** Prints a JSON array of the messages (as {@code docker inspect} does for several objects). */
  public static void printArray(PrintWriter out, List<? extends MessageOrBuilder> messages) {
    out.print("[");
    for (int i = 0; i < messages.size(); i++) {
      out.print(i == 0 ? "\n" : ",\n");
      out.print(of(messages.get(i)).indent(2).stripTrailing());
    }
    out.println(messages.isEmpty() ? "]" : "\n]");
    out.flush();
  }
}
