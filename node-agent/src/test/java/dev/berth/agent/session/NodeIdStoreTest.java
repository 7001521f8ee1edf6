package dev.berth.agent.session;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class NodeIdStoreTest {
    @TempDir
    Path dir;

    @Test
    void keepsTheIdAcrossInstances() {
        Path state = dir.resolve("state");
        assertThat(new NodeIdStore(state).load()).isEmpty();
        new NodeIdStore(state).save("abc123");
        assertThat(new NodeIdStore(state).load()).contains("abc123");
        assertThat(state.resolve("node-id.tmp")).doesNotExist();
    }

    @Test
    void refusesAFileThatIsNotAnId() throws Exception {
        Files.writeString(dir.resolve("node-id"), "{\"not\": \"an id\"}");
        assertThatThrownBy(() -> new NodeIdStore(dir).load()).hasMessageContaining("does not hold a node id");
    }
}
