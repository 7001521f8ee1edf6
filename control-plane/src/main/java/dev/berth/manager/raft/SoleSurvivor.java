package dev.berth.manager.raft;

import dev.berth.manager.store.ClusterStore;
import java.io.File;
import java.io.IOException;
import java.io.OutputStream;
import java.time.Duration;
import java.util.List;
import org.apache.ratis.proto.RaftProtos.LogEntryProto;
import org.apache.ratis.proto.RaftProtos.RaftConfigurationProto;
import org.apache.ratis.protocol.RaftGroup;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.server.storage.RaftStorage;
import org.apache.ratis.util.AtomicFileOutputStream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Turns a manager's existing Raft storage into that of a one-member group (same group id, same
 * log and snapshots), so a lone survivor whose peers are gone for good can elect itself (as
 * etcd's and Swarm's {@code --force-new-cluster} do).
 *
 * <p>Ratis has no API for forcing a configuration without a quorum. On start it takes the
 * configuration with the highest log index among {@code raft-meta.conf} and the configuration
 * entries of its log. So this writes {@code raft-meta.conf} naming only this server at the
 * log's next index: the index where the server, once it leads, appends its first entry of the
 * term, which is a configuration entry carrying exactly that configuration (Ratis checks that
 * two configurations at one index are equal). Committing that entry also commits every entry
 * the survivor holds, so nothing it acknowledged is lost; what it never received is gone, as in
 * any forced recovery.
 *
 * <p>Finding that index means opening the log: the storage is started once as a follower that
 * never campaigns (election timeout of minutes), read, and closed again.
 *
 * <p>Thread model: call from one thread, with no Raft server of this manager running. Error
 * contract: IOException when the storage can't be opened or written; the storage is unchanged
 * unless the final write succeeded.
 */
public final class SoleSurvivor {
  private static final Logger LOG = LoggerFactory.getLogger(SoleSurvivor.class);
  private static final String META_CONF = "raft-meta.conf";

  private SoleSurvivor() {}

  /** What the forced configuration replaced. */
  public record Result(long index, List<RaftPeer> formerPeers) {}

  /**
   * @param raftAddr this server's Raft address, used when its old configuration lacks it
   */
  public static Result seed(String selfId, RaftGroupId groupId, RaftSettings settings, String raftAddr)
      throws IOException {
    RaftSettings quiet = settings.withElection(Duration.ofMinutes(5), Duration.ofMinutes(10));
    BerthStateMachine scratch = new BerthStateMachine(new ClusterStore(), n -> { }, new Silent());
    RaftPeerId self = RaftPeerId.valueOf(selfId);
    long nextIndex;
    long term;
    List<RaftPeer> former;
    File current;
    RaftServer server = RaftServer.newBuilder().setServerId(self)
        .setGroup(RaftGroup.valueOf(groupId, List.of()))
        .setProperties(RaftNode.properties(quiet)).setStateMachine(scratch)
        .setOption(RaftStorage.StartupOption.RECOVER).build();
    try {
      server.start();
      RaftServer.Division division = server.getDivision(groupId);
      nextIndex = division.getRaftLog().getNextIndex();
      term = division.getInfo().getCurrentTerm();
      former = List.copyOf(division.getRaftConf().getCurrentPeers());
      current = division.getRaftStorage().getStorageDir().getCurrentDir();
    } finally {
      server.close();
    }
    RaftPeer me = former.stream().filter(p -> p.getId().equals(self)).findFirst()
        .orElseGet(() -> RaftPeer.newBuilder().setId(self).setAddress(raftAddr).build());
    LogEntryProto conf = LogEntryProto.newBuilder().setTerm(term).setIndex(nextIndex)
        .setConfigurationEntry(RaftConfigurationProto.newBuilder().addPeers(me.getRaftPeerProto()))
        .build();
    try (OutputStream out = new AtomicFileOutputStream(new File(current, META_CONF))) {
      conf.writeTo(out);
    }
    LOG.warn("forced a one-member configuration ({}) at index {} over former peers {}", selfId,
        nextIndex, former);
    return new Result(nextIndex, former);
  }

  private static final class Silent implements BerthStateMachine.LeaderListener {
    @Override
    public void onLeaderStart(long term) {}

    @Override
    public void onLeaderStop() {}
  }
}
