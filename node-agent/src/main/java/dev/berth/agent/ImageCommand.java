package dev.berth.agent;

import dev.berth.registry.ImageException;
import dev.berth.agent.image.ImageService;
import dev.berth.agent.image.PulledImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code berth image}: the node's local image store. {@code berth image import FILE} loads an OCI image-layout
 * tar into the store an agent with the same {@code --state-dir} runs from, for hosts with no registry.
 *
 * <p>Thread model: runs on the calling thread. Error contract: a missing file is a usage error; an invalid or
 * incomplete layout ends with exit code 1 and the image service's message, leaving the store as it was (no
 * partial blob is kept under a content address). Run it while the agent of that state dir is stopped: the
 * agent reads the store's names at start.
 */
@Command(name = "image", mixinStandardHelpOptions = true, versionProvider = AgentCommand.Version.class,
        description = "Manage this node's local images.", subcommands = ImageCommand.Import.class)
public final class ImageCommand {

    /** {@code berth image import FILE}. */
    @Command(name = "import", mixinStandardHelpOptions = true,
            description = "Load an OCI image-layout tar (plain or gzip) into the node's image store.")
    static final class Import implements Callable<Integer> {
        @Spec
        CommandLine.Model.CommandSpec spec;

        @Parameters(paramLabel = "FILE", description = "OCI image-layout tar, e.g. from `umoci` or `skopeo copy ... oci-archive:`.")
        Path file;

        @Option(names = "--name", paramLabel = "NAME",
                description = "Repository name for entries tagged only with a bare tag (default: the file name without extension).")
        String name;

        @Option(names = "--state-dir", paramLabel = "DIR", defaultValue = "/var/lib/berth/agent",
                description = "The agent's state dir (default: ${DEFAULT-VALUE}).")
        Path stateDir;

        @Override
        public Integer call() throws Exception {
            if (!Files.isRegularFile(file)) {
                throw new CommandLine.ParameterException(spec.commandLine(), "FILE: " + file + " is not a file");
            }
            String repo = name != null ? name : file.getFileName().toString().replaceFirst("(\\.tar)?(\\.gz|\\.tgz)?$", "")
                    .toLowerCase(java.util.Locale.ROOT);
            ExecutorService pool = Executors.newFixedThreadPool(2);
            try {
                List<PulledImage> images = ImageService.create(stateDir.resolve("images"), Set.of(), pool)
                        .importLayout(file, repo);
                for (PulledImage i : images) {
                    spec.commandLine().getOut().println("imported " + i.reference().withDigest(null) + " " + i.digest());
                }
                return 0;
            } catch (ImageException e) {
                spec.commandLine().getErr().println("berth image import: " + e.getMessage());
                return 1;
            } finally {
                pool.shutdownNow();
            }
        }
    }

    public static void main(String[] args) {
        System.exit(new CommandLine(new ImageCommand()).execute(args));
    }
}
