package dev.berth.net.vxlan;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * Runs one external command with optional stdin, returning stdout; the edge of the data plane (the
 * agent's network controller runs its few netns commands through it too).
 *
 * <p>Thread model: stateless. Error contract: a non-zero exit or a timeout throws {@link IOException}
 * naming the command and its stderr.
 */
public final class Commands {
  private static final long TIMEOUT_S = 30;

  private Commands() {}

  public static String run(List<String> cmd, String stdin) throws IOException {
    Process p = new ProcessBuilder(cmd).start();
    CompletableFuture<String> err = CompletableFuture.supplyAsync(() -> read(p, true));
    CompletableFuture<String> out = CompletableFuture.supplyAsync(() -> read(p, false));
    try (OutputStream in = p.getOutputStream()) {
      if (stdin != null) {
        in.write(stdin.getBytes(StandardCharsets.UTF_8));
      }
    }
    try {
      if (!p.waitFor(TIMEOUT_S, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        throw new IOException("timed out after " + TIMEOUT_S + " s: " + String.join(" ", cmd));
      }
      if (p.exitValue() != 0) {
        throw new IOException(String.join(" ", cmd) + " exited " + p.exitValue() + ": " + err.join().strip()
            + (stdin == null ? "" : "\ninput was:\n" + stdin));
      }
      return out.join();
    } catch (InterruptedException e) {
      p.destroyForcibly();
      Thread.currentThread().interrupt();
      throw new IOException("interrupted: " + String.join(" ", cmd), e);
    }
  }

  private static String read(Process p, boolean err) {
    try {
      return new String((err ? p.getErrorStream() : p.getInputStream()).readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      return "";
    }
  }
}
