package dev.berth.manager.dispatcher;

import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.api.v1.Cluster;
import dev.berth.api.v1.NodeRole;
import org.junit.jupiter.api.Test;

class JoinTokensTest {
  final Cluster cluster = Cluster.newBuilder()
      .setWorkerTokenHash(JoinTokens.sha256("workersecret"))
      .setManagerTokenHash(JoinTokens.sha256("managersecret")).build();

  @Test
  void hashIsLowercaseHexSha256() {
    // echo -n abc | sha256sum
    assertThat(JoinTokens.sha256("abc"))
        .isEqualTo("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  }

  @Test
  void verifiesTheSecretPartAgainstEachRole() {
    assertThat(JoinTokens.verify("BERTH-1-abcdef-workersecret", cluster)).contains(NodeRole.WORKER);
    assertThat(JoinTokens.verify("BERTH-1-abcdef-managersecret", cluster)).contains(NodeRole.MANAGER);
  }

  @Test
  void rejectsWrongOrMalformedTokens() {
    assertThat(JoinTokens.verify("BERTH-1-abcdef-guess", cluster)).isEmpty();
    assertThat(JoinTokens.verify("workersecret", cluster)).isEmpty();
    assertThat(JoinTokens.verify("BERTH-1-abcdef-", cluster)).isEmpty();
    assertThat(JoinTokens.verify("BERTH-2-abcdef-workersecret", cluster)).isEmpty();
    assertThat(JoinTokens.verify(null, cluster)).isEmpty();
    assertThat(JoinTokens.verify("BERTH-1-x-workersecret", Cluster.getDefaultInstance())).isEmpty();
  }
}
