package dev.berth.agent;

import dev.berth.agent.net.NetworkController;
import dev.berth.agent.net.Underlay;
import dev.berth.agent.session.ChannelFactory;
import dev.berth.agent.session.HostDescription;
import dev.berth.agent.session.SessionConfig;
import dev.berth.agent.task.NativeExecutor;
import dev.berth.agent.task.SimulatedTaskExecutor;
import dev.berth.agent.task.TaskExecutor;
import dev.berth.agent.task.TaskNetworking;
import dev.berth.net.dns.ResolvConf;
import dev.berth.net.vxlan.Cidr;
import java.net.InetAddress;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code berth agent}: turns this machine into a Berth node.
 *
 * <p>Thread model: {@link #call} blocks the calling thread until the agent stops (a fatal error, or the
 * JVM shutting down). Error contract: bad options are reported by picocli as usage errors naming the
 * option; a join the cluster refuses ends with exit code 1 and the manager's reason.
 */
@Command(name = "agent", mixinStandardHelpOptions = true, versionProvider = AgentCommand.Version.class,
        description = "Join a Berth cluster as a node and run the tasks it is assigned.")
public final class AgentCommand implements Callable<Integer> {
    private static final System.Logger LOG = System.getLogger(AgentCommand.class.getName());

    /** Builds the executor named by {@code --executor}. */
    @FunctionalInterface
    public interface ExecutorFactory {
        TaskExecutor create(AgentCommand options, Clock clock);
    }

    /** The executors this build offers: native (real containers, the default) and simulated. */
    public static Map<String, ExecutorFactory> defaultExecutors() {
        Map<String, ExecutorFactory> m = new LinkedHashMap<>();
        m.put("native", (opts, clock) -> {
            try {
                return NativeExecutor.create(opts.stateDir(), Set.copyOf(opts.insecureRegistries()), clock,
                        opts.network().<TaskNetworking>map(n -> n).orElse(TaskNetworking.NONE));
            } catch (java.io.IOException | dev.berth.registry.ImageException e) {
                throw new IllegalStateException("cannot open the image store in " + opts.stateDir() + ": "
                        + e.getMessage(), e);
            }
        });
        m.put("simulated", (opts, clock) -> new SimulatedTaskExecutor(clock));
        return m;
    }

    @Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--join", required = true, split = ",", paramLabel = "MANAGER:PORT",
            description = "Manager(s) to join through; the agent learns the others from the cluster.")
    List<String> join = new ArrayList<>();

    @Option(names = "--token", required = true, paramLabel = "TOKEN", description = "Worker join token (BERTH-1-...).")
    String token;

    @Option(names = "--label", paramLabel = "KEY=VALUE", description = "Node label given at first join (repeatable).")
    Map<String, String> labels = new LinkedHashMap<>();

    @Option(names = "--state-dir", paramLabel = "DIR", defaultValue = "/var/lib/berth/agent",
            description = "Where the node id, images and container state live (default: ${DEFAULT-VALUE}).")
    Path stateDir;

    @Option(names = "--advertise-addr", paramLabel = "IP", description = "Address other nodes reach this one at.")
    String advertiseAddr = "";

    @Option(names = "--insecure-registry", paramLabel = "HOST:PORT",
            description = "Registry reached over plain HTTP (repeatable).")
    List<String> insecureRegistries = new ArrayList<>();

    @Option(names = "--gateway-subnet", paramLabel = "CIDR", defaultValue = "172.18.0.0/16",
            description = "Node-local subnet of the containers' gateway bridge: default route with source NAT, "
                    + "and the node's DNS server on its first address (default: ${DEFAULT-VALUE}).")
    String gatewaySubnet;

    @Option(names = "--executor", paramLabel = "NAME", defaultValue = "native",
            description = "How tasks run: native (containers) or simulated (in memory, no containers; for tests and demos).")
    String executorName;

    private final Map<String, ExecutorFactory> executors;
    private NetworkController network;

    public AgentCommand() {
        this(defaultExecutors());
    }

    public AgentCommand(Map<String, ExecutorFactory> executors) {
        this.executors = Map.copyOf(executors);
    }

    public List<String> join() {
        return List.copyOf(join);
    }

    public Path stateDir() {
        return stateDir;
    }

    public List<String> insecureRegistries() {
        return List.copyOf(insecureRegistries);
    }

    public String advertiseAddr() {
        return advertiseAddr;
    }

    /** The node's network controller, made by {@link #startAgent} for the native executor. */
    public Optional<NetworkController> network() {
        return Optional.ofNullable(network);
    }

    @Override
    public Integer call() {
        Agent agent = startAgent(Clock.systemUTC(), ChannelFactory.plaintext());
        Runtime.getRuntime().addShutdownHook(new Thread(agent::close, "berth-agent-shutdown"));
        try {
            agent.terminated().get();
            return 0;
        } catch (ExecutionException e) {
            spec.commandLine().getErr().println("berth agent: " + e.getCause().getMessage());
            return 1;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            agent.close();
            return 1;
        }
    }

    /** Validates the options, builds the agent and starts it (returns at once). */
    public Agent startAgent(Clock clock, ChannelFactory channels) {
        validate();
        ExecutorFactory factory = executors.get(executorName);
        if (factory == null) {
            String offered = String.join(", ", new java.util.TreeSet<>(executors.keySet()));
            throw new CommandLine.ParameterException(spec.commandLine(), "--executor: '" + executorName
                    + "' is not available in this build (available: " + offered + ")");
        }
        if (executorName.equals("native")) {
            network = networkController();
        }
        TaskExecutor executor = factory.create(this, clock);
        LOG.log(System.Logger.Level.INFO, "executor '" + executor.name() + "', state dir " + stateDir
                + (insecureRegistries.isEmpty() ? "" : ", insecure registries " + insecureRegistries));
        if (executor.name().equals("simulated")) {
            LOG.log(System.Logger.Level.WARNING, "executor 'simulated': tasks run IN MEMORY ONLY; no containers are started");
            if (!insecureRegistries.isEmpty()) {
                LOG.log(System.Logger.Level.WARNING, "--insecure-registry is ignored by the simulated executor");
            }
        }
        SessionConfig config = SessionConfig.defaults(join, token, labels);
        Agent agent = new Agent(config, stateDir, advertiseAddr, executor, channels, HostDescription.system(), clock,
                new Random());
        if (network != null) {
            agent.network(network);
        }
        return agent.start();
    }

    /**
     * The overlay needs the node's underlay: the device holding {@code --advertise-addr}. Without one,
     * containers get only their own empty network namespace (as before the overlay existed).
     */
    private NetworkController networkController() {
        if (advertiseAddr.isEmpty()) {
            LOG.log(System.Logger.Level.WARNING, "no --advertise-addr: overlay networks, DNS and the routing mesh are "
                    + "off; containers get an empty network namespace");
            return null;
        }
        Underlay underlay;
        try {
            underlay = Underlay.find(advertiseAddr);
        } catch (java.io.IOException | IllegalArgumentException e) {
            throw usage("--advertise-addr: " + e.getMessage());
        }
        List<java.net.InetSocketAddress> upstreams;
        try {
            upstreams = ResolvConf.nameservers(Path.of("/etc/resolv.conf"));
        } catch (java.io.IOException e) {
            LOG.log(System.Logger.Level.WARNING, "containers' DNS relays no outside names: " + e.getMessage());
            upstreams = List.of();
        }
        LOG.log(System.Logger.Level.INFO, "overlay over " + underlay.device() + " (" + underlay.address() + ", MTU "
                + underlay.mtu() + "), gateway subnet " + gatewaySubnet);
        return new NetworkController(new NetworkController.Settings(underlay, gatewaySubnet, upstreams));
    }

    private void validate() {
        for (String addr : join) {
            checkHostPort("--join", addr);
        }
        for (String addr : insecureRegistries) {
            checkHostPort("--insecure-registry", addr);
        }
        if (!token.startsWith("BERTH-1-") || token.split("-").length < 4) {
            throw usage("--token: expected a join token of the form BERTH-1-<digest>-<secret>");
        }
        labels.forEach((k, v) -> {
            if (k.isBlank() || !k.matches("[A-Za-z0-9][A-Za-z0-9._/-]*")) {
                throw usage("--label: bad key '" + k + "' (letters, digits, '.', '_', '/', '-')");
            }
        });
        if (!advertiseAddr.isEmpty() && !isIpLiteral(advertiseAddr)) {
            throw usage("--advertise-addr: '" + advertiseAddr + "' is not an IP address");
        }
        try {
            Cidr.parse(gatewaySubnet);
        } catch (IllegalArgumentException e) {
            throw usage("--gateway-subnet: '" + gatewaySubnet + "': " + e.getMessage());
        }
    }

    private void checkHostPort(String option, String addr) {
        int colon = addr.lastIndexOf(':');
        if (colon <= 0 || colon == addr.length() - 1) {
            throw usage(option + ": '" + addr + "' is not HOST:PORT");
        }
        try {
            int port = Integer.parseInt(addr.substring(colon + 1));
            if (port < 1 || port > 65535) {
                throw usage(option + ": port " + port + " out of range 1-65535 in '" + addr + "'");
            }
        } catch (NumberFormatException e) {
            throw usage(option + ": '" + addr.substring(colon + 1) + "' is not a port number in '" + addr + "'");
        }
    }

    private static boolean isIpLiteral(String s) {
        if (!s.matches("[0-9.]+") && !s.matches("[0-9a-fA-F:]+")) {
            return false; // never resolve names here: only literals are accepted
        }
        try {
            InetAddress.getByName(s);
            return true;
        } catch (java.net.UnknownHostException e) {
            return false;
        }
    }

    private CommandLine.ParameterException usage(String message) {
        return new CommandLine.ParameterException(spec.commandLine(), message);
    }

    /** Reports the agent's version. */
    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            return new String[] {Agent.VERSION};
        }
    }

    public static void main(String[] args) {
        System.exit(new CommandLine(new AgentCommand()).execute(args));
    }
}
