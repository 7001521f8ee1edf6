package dev.berth.cli.network;

import dev.berth.api.v1.CreateNetworkRequest;
import dev.berth.api.v1.ListNetworksResponse;
import dev.berth.api.v1.ListRequest;
import dev.berth.api.v1.Network;
import dev.berth.api.v1.NetworkSpec;
import dev.berth.api.v1.RemoveNetworkRequest;
import dev.berth.cli.ApiClient;
import dev.berth.cli.ApiCommand;
import dev.berth.cli.CliContext;
import dev.berth.cli.Each;
import dev.berth.cli.ExitCodes;
import dev.berth.cli.KeyValue;
import dev.berth.cli.OutputOptions;
import dev.berth.cli.UserException;
import dev.berth.cli.format.Json;
import dev.berth.cli.format.Table;
import java.util.Comparator;
import java.util.List;
import java.util.regex.Pattern;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code berth network create | ls | inspect | rm}. */
@Command(
    name = "network",
    description = "Manage networks.")
public final class NetworkCommand {
  /** In help order; added by {@link dev.berth.cli.Subcommands}. */
  public static final List<Class<?>> SUBCOMMANDS = List.of(
      NetworkCommand.Create.class, NetworkCommand.Ls.class, NetworkCommand.Inspect.class,
      NetworkCommand.Rm.class);
  private static final String OCTET = "(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)";
  static final Pattern IPV4 = Pattern.compile(OCTET + "(\\." + OCTET + "){3}");
  static final Pattern CIDR = Pattern.compile(IPV4.pattern() + "/(3[0-2]|[12]?\\d)");

  /** Prints the new network's id. */
  @Command(name = "create", description = "Create a network.")
  static final class Create extends ApiCommand {
    @Option(names = {"-d", "--driver"}, paramLabel = "DRIVER", defaultValue = "overlay", description = "Driver (overlay).")
    String driver;

    @Option(names = "--subnet", paramLabel = "CIDR", description = "IPv4 subnet, e.g. 10.20.0.0/24 (default: from the pool).")
    String subnet;

    @Option(names = "--gateway", paramLabel = "IP", description = "Gateway inside the subnet.")
    String gateway;

    @Option(names = "--attachable", description = "Let standalone containers attach.")
    boolean attachable;

    @Option(names = "--ingress", description = "Make it the routing-mesh network (one per cluster; init creates "
        + "\"ingress\", so this is for re-creating it).")
    boolean ingress;

    @Option(names = "--label", paramLabel = "KEY=VALUE", description = "Network label (repeatable).")
    List<String> labels = List.of();

    @Parameters(index = "0", paramLabel = "NAME")
    String name;

    Create(CliContext ctx) {
      super(ctx);
    }

    @Override
    protected int run(ApiClient api) {
      NetworkSpec.Builder spec = NetworkSpec.newBuilder().setName(name).setDriver(driver).setAttachable(attachable)
          .setIngress(ingress);
      if (subnet != null) {
        if (!CIDR.matcher(subnet).matches()) {
          throw UserException.field("--subnet", "'" + subnet + "' is not an IPv4 CIDR like 10.20.0.0/24");
        }
        spec.setSubnet(subnet);
      }
      if (gateway != null) {
        if (!IPV4.matcher(gateway).matches()) {
          throw UserException.field("--gateway", "'" + gateway + "' is not an IPv4 address");
        }
        spec.setGateway(gateway);
      }
      for (String kv : labels) {
        KeyValue label = KeyValue.parse("--label", kv);
        spec.putLabels(label.key(), label.value());
      }
      Network created = api.write((s, w) ->
          s.createNetwork(CreateNetworkRequest.newBuilder().setWrite(w).setSpec(spec).build())).getNetwork();
      ctx.out().println(created.getMeta().getId());
      ctx.out().flush();
      return ExitCodes.OK;
    }
  }

  /** ID NAME DRIVER SUBNET GATEWAY. */
  @Command(name = "ls", aliases = "list", description = "List networks.")
  static final class Ls extends ApiCommand {
    @Mixin
    OutputOptions output;

    Ls(CliContext ctx) {
      super(ctx);
    }

    @Override
    protected int run(ApiClient api) {
      ListNetworksResponse response = api.read(s -> s.listNetworks(ListRequest.getDefaultInstance()));
      if (output.json()) {
        Json.print(ctx.out(), response);
        return ExitCodes.OK;
      }
      Table table = new Table("NETWORK ID", "NAME", "DRIVER", "SUBNET", "GATEWAY");
      response.getNetworksList().stream()
          .sorted(Comparator.comparing((Network n) -> n.getSpec().getName()))
          .forEach(n -> table.row(n.getMeta().getId().substring(0, Math.min(12, n.getMeta().getId().length())),
              n.getSpec().getName(), n.getSpec().getDriver(), n.getSubnet(), n.getGateway()));
      table.print(ctx.out());
      return ExitCodes.OK;
    }
  }

  @Command(name = "inspect", description = "Show networks in detail (JSON).")
  static final class Inspect extends ApiCommand {
    @Parameters(arity = "1..*", paramLabel = "NETWORK")
    List<String> networks;

    Inspect(CliContext ctx) {
      super(ctx);
    }

    @Override
    protected int run(ApiClient api) {
      return inspect(api, networks, (s, r) -> s.getNetwork(r).getNetwork());
    }
  }

  @Command(name = "rm", aliases = "remove", description = "Remove networks.")
  static final class Rm extends ApiCommand {
    @Parameters(arity = "1..*", paramLabel = "NETWORK")
    List<String> networks;

    Rm(CliContext ctx) {
      super(ctx);
    }

    @Override
    protected int run(ApiClient api) {
      return Each.run(ctx, networks, n -> {
        api.write((s, w) -> s.removeNetwork(RemoveNetworkRequest.newBuilder().setWrite(w).setNetwork(n).build()));
        ctx.out().println(n);
        ctx.out().flush();
      });
    }
  }
}
