package dev.berth.net.dns;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.DatagramChannel;
import io.netty.channel.socket.nio.NioDatagramChannel;
import io.netty.handler.codec.dns.DatagramDnsQuery;
import io.netty.handler.codec.dns.DatagramDnsQueryDecoder;
import io.netty.handler.codec.dns.DatagramDnsResponse;
import io.netty.handler.codec.dns.DatagramDnsResponseEncoder;
import io.netty.handler.codec.dns.DefaultDnsQuestion;
import io.netty.handler.codec.dns.DefaultDnsRawRecord;
import io.netty.handler.codec.dns.DnsQuestion;
import io.netty.handler.codec.dns.DnsRawRecord;
import io.netty.handler.codec.dns.DnsRecord;
import io.netty.handler.codec.dns.DnsRecordType;
import io.netty.handler.codec.dns.DnsResponse;
import io.netty.handler.codec.dns.DnsResponseCode;
import io.netty.handler.codec.dns.DnsSection;
import io.netty.resolver.dns.DnsNameResolver;
import io.netty.resolver.dns.DnsNameResolverBuilder;
import io.netty.resolver.dns.SequentialDnsServerAddressStreamProvider;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A node's embedded DNS server (UDP, Netty's DNS codec). Names in the {@link RecordTable}
 * are answered from it; everything else is relayed to the host's resolvers through
 * Netty's {@link DnsNameResolver} (ids, timeouts and retries handled there).
 *
 * <p>Where it listens: on the node's gateway bridge address, which every container on
 * the node reaches over its gateway leg, so one socket serves all containers and the
 * query's source address (the container's gateway-leg address) identifies the asker.
 * Docker's alternative, 127.0.0.11 inside each container with an iptables DNAT, needs a
 * socket opened inside every container's namespace (setns per thread, which the JVM
 * cannot do) or route_localnet tricks; the gateway address needs neither.
 *
 * <p>Thread model: one event-loop thread; {@link #close} from any thread. Error contract:
 * {@link #start} fails with the bind error; an upstream failure answers SERVFAIL.
 */
public final class DnsServer implements AutoCloseable {
  /** Short TTL: answers follow task state, so resolvers must not keep them. */
  static final int TTL_S = 1;

  private final RecordTable table;
  private final InetSocketAddress listen;
  private final List<InetSocketAddress> upstreams;
  private final AtomicInteger rotation = new AtomicInteger();
  private EventLoopGroup group;
  private DnsNameResolver resolver;
  private Channel channel;

  public DnsServer(RecordTable table, InetSocketAddress listen, List<InetSocketAddress> upstreams) {
    this.table = table;
    this.listen = listen;
    // Never relay to ourselves (a resolv.conf naming the gateway address would loop).
    this.upstreams = upstreams.stream().filter(u -> !u.equals(listen)).toList();
  }

  public synchronized DnsServer start() throws InterruptedException {
    group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    if (!upstreams.isEmpty()) {
      resolver = new DnsNameResolverBuilder(group.next())
          .datagramChannelType(NioDatagramChannel.class)
          .nameServerProvider(new SequentialDnsServerAddressStreamProvider(upstreams))
          .queryTimeoutMillis(2000)
          .maxQueriesPerResolve(2)
          .recursionDesired(true)
          .build();
    }
    try {
      channel = new Bootstrap().group(group).channel(NioDatagramChannel.class)
          .handler(new ChannelInitializer<DatagramChannel>() {
            @Override
            protected void initChannel(DatagramChannel ch) {
              ch.pipeline().addLast(new DatagramDnsQueryDecoder(), new DatagramDnsResponseEncoder(), new Handler());
            }
          })
          .bind(listen).sync().channel();
    } catch (RuntimeException | InterruptedException e) {
      close();
      throw e;
    }
    return this;
  }

  public InetSocketAddress localAddress() {
    return (InetSocketAddress) channel.localAddress();
  }

  @Override
  public synchronized void close() {
    if (channel != null) {
      channel.close().awaitUninterruptibly();
    }
    if (resolver != null) {
      resolver.close();
    }
    if (group != null) {
      group.shutdownGracefully(0, 1, java.util.concurrent.TimeUnit.SECONDS).awaitUninterruptibly();
    }
  }

  private final class Handler extends SimpleChannelInboundHandler<DatagramDnsQuery> {
    @Override
    protected void channelRead0(ChannelHandlerContext ctx, DatagramDnsQuery query) {
      DnsQuestion q = query.recordAt(DnsSection.QUESTION);
      DatagramDnsResponse resp = new DatagramDnsResponse(query.recipient(), query.sender(), query.id());
      resp.setRecursionDesired(query.isRecursionDesired()).setRecursionAvailable(true);
      if (q == null) {
        ctx.writeAndFlush(resp.setCode(DnsResponseCode.FORMERR));
        return;
      }
      resp.addRecord(DnsSection.QUESTION, new DefaultDnsQuestion(q.name(), q.type(), q.dnsClass()));
      RecordTable.Answer answer = table.lookup(query.sender().getAddress().getHostAddress(), q.name());
      if (answer.ours()) {
        resp.setAuthoritativeAnswer(true);
        if (q.type() == DnsRecordType.A) {
          List<String> ips = answer.addresses();
          int start = ips.isEmpty() ? 0 : Math.floorMod(rotation.getAndIncrement(), ips.size());
          for (int i = 0; i < ips.size(); i++) {
            resp.addRecord(DnsSection.ANSWER, new DefaultDnsRawRecord(q.name(), DnsRecordType.A, TTL_S,
                Unpooled.wrappedBuffer(octets(ips.get((start + i) % ips.size())))));
          }
        }
        // Other types of our names (AAAA, ...): an empty NOERROR answer, never forwarded.
        ctx.writeAndFlush(resp);
      } else if (resolver == null) {
        ctx.writeAndFlush(resp.setCode(DnsResponseCode.SERVFAIL));
      } else {
        forward(ctx, q, resp);
      }
    }

    private void forward(ChannelHandlerContext ctx, DnsQuestion q, DatagramDnsResponse resp) {
      resolver.query(new DefaultDnsQuestion(q.name(), q.type(), q.dnsClass())).addListener(f -> {
        if (!f.isSuccess()) {
          ctx.writeAndFlush(resp.setCode(DnsResponseCode.SERVFAIL));
          return;
        }
        @SuppressWarnings("unchecked")
        io.netty.channel.AddressedEnvelope<DnsResponse, InetSocketAddress> env =
            (io.netty.channel.AddressedEnvelope<DnsResponse, InetSocketAddress>) f.getNow();
        try {
          DnsResponse up = env.content();
          resp.setCode(up.code());
          for (DnsSection s : List.of(DnsSection.ANSWER, DnsSection.AUTHORITY)) {
            for (int i = 0; i < up.count(s); i++) {
              DnsRecord r = up.recordAt(s, i);
              if (r instanceof DnsRawRecord raw) {
                resp.addRecord(s, raw.retainedDuplicate());
              }
            }
          }
        } finally {
          env.release();
        }
        ctx.writeAndFlush(resp);
      });
    }
  }

  private static byte[] octets(String ip) {
    try {
      return InetAddress.getByName(ip).getAddress();
    } catch (UnknownHostException e) {
      throw new IllegalArgumentException("not an address: " + ip, e);
    }
  }
}
