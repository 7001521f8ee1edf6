package dev.berth.agent.image;

import java.io.IOException;
import java.nio.file.Path;

public final class TestFiles {
    private TestFiles() {
    }

    public static void deleteTree(Path p) throws IOException {
        dev.berth.agent.fs.FileTrees.deleteTree(p);
    }
}
