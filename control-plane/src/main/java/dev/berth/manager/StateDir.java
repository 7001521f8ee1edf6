package dev.berth.manager;

import java.io.IOException;
import java.io.Reader;
import java.io.Writer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.HexFormat;
import java.util.Properties;

/**
 * A manager's state directory: {@code manager.properties} (node id, Raft group id,
 * advertised addresses), {@code root_secret} (mode 0600; the cluster secret join tokens are
 * derived from) and {@code raft/} (Ratis storage: log, metadata, snapshots).
 *
 * <p>Thread model: not thread-safe; used at start-up.
 */
public final class StateDir {
  private static final String PROPS = "manager.properties";
  private static final String SECRET = "root_secret";
  private final Path dir;

  public StateDir(Path dir) {
    this.dir = dir;
  }

  public Path path() {
    return dir;
  }

  public Path raftDir() {
    return dir.resolve("raft");
  }

  public boolean initialized() {
    return Files.exists(dir.resolve(PROPS));
  }

  public record Identity(String nodeId, String groupId, String apiAddr, String raftAddr) {}

  public Identity identity() throws IOException {
    Properties p = new Properties();
    try (Reader r = Files.newBufferedReader(dir.resolve(PROPS))) {
      p.load(r);
    }
    return new Identity(p.getProperty("node_id"), p.getProperty("group_id"),
        p.getProperty("api_addr"), p.getProperty("raft_addr"));
  }

  public void writeIdentity(Identity id) throws IOException {
    Files.createDirectories(dir);
    Properties p = new Properties();
    p.setProperty("node_id", id.nodeId());
    p.setProperty("group_id", id.groupId());
    p.setProperty("api_addr", id.apiAddr());
    p.setProperty("raft_addr", id.raftAddr());
    Path tmp = dir.resolve(PROPS + ".tmp");
    try (Writer w = Files.newBufferedWriter(tmp)) {
      p.store(w, "berth manager identity");
    }
    Files.move(tmp, dir.resolve(PROPS), java.nio.file.StandardCopyOption.ATOMIC_MOVE,
        java.nio.file.StandardCopyOption.REPLACE_EXISTING);
  }

  public byte[] rootSecret() throws IOException {
    Path f = dir.resolve(SECRET);
    return Files.exists(f) ? HexFormat.of().parseHex(Files.readString(f).trim()) : null;
  }

  public void writeRootSecret(byte[] secret) throws IOException {
    Files.createDirectories(dir);
    Path f = dir.resolve(SECRET);
    Files.deleteIfExists(f);
    Files.createFile(f, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
    Files.writeString(f, HexFormat.of().formatHex(secret), StandardOpenOption.TRUNCATE_EXISTING);
  }
}
