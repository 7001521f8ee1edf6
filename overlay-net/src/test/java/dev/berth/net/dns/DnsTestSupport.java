package dev.berth.net.dns;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.DatagramChannel;
import io.netty.channel.socket.DatagramPacket;
import io.netty.channel.socket.nio.NioDatagramChannel;
import io.netty.handler.codec.dns.DatagramDnsQuery;
import io.netty.handler.codec.dns.DatagramDnsQueryDecoder;
import io.netty.handler.codec.dns.DatagramDnsQueryEncoder;
import io.netty.handler.codec.dns.DatagramDnsResponse;
import io.netty.handler.codec.dns.DatagramDnsResponseDecoder;
import io.netty.handler.codec.dns.DatagramDnsResponseEncoder;
import io.netty.handler.codec.dns.DefaultDnsQuestion;
import io.netty.handler.codec.dns.DefaultDnsRawRecord;
import io.netty.handler.codec.dns.DnsQuestion;
import io.netty.handler.codec.dns.DnsRawRecord;
import io.netty.handler.codec.dns.DnsRecordType;
import io.netty.handler.codec.dns.DnsResponseCode;
import io.netty.handler.codec.dns.DnsSection;
import java.io.IOException;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;

/** A DNS client and a tiny upstream server for tests, both on Netty's DNS codec. */
final class DnsTestSupport {
  private DnsTestSupport() {}

  record Reply(String rcode, List<String> addresses) {}

  /** Sends one A query from a given local address and decodes the reply. */
  static Reply query(InetAddress from, InetSocketAddress server, String name) throws IOException {
    int id = ThreadLocalRandom.current().nextInt(1, 65535);
    EmbeddedChannel enc = new EmbeddedChannel(new DatagramDnsQueryEncoder());
    DatagramDnsQuery q = new DatagramDnsQuery(new InetSocketAddress(from, 0), server, id);
    q.setRecursionDesired(true).addRecord(DnsSection.QUESTION, new DefaultDnsQuestion(name, DnsRecordType.A));
    enc.writeOutbound(q);
    DatagramPacket pkt = enc.readOutbound();
    byte[] bytes = ByteBufUtil.getBytes(pkt.content());
    pkt.release();
    enc.finishAndReleaseAll();
    try (DatagramSocket s = new DatagramSocket(new InetSocketAddress(from, 0))) {
      s.setSoTimeout(5000);
      s.send(new java.net.DatagramPacket(bytes, bytes.length, server));
      byte[] buf = new byte[4096];
      java.net.DatagramPacket in = new java.net.DatagramPacket(buf, buf.length);
      s.receive(in);
      EmbeddedChannel dec = new EmbeddedChannel(new DatagramDnsResponseDecoder());
      dec.writeInbound(new DatagramPacket(Unpooled.copiedBuffer(buf, 0, in.getLength()), (InetSocketAddress)
          s.getLocalSocketAddress(), server));
      DatagramDnsResponse r = dec.readInbound();
      try {
        if (r.id() != id) {
          throw new IOException("reply id " + r.id() + " != " + id);
        }
        List<String> ips = new ArrayList<>();
        for (int i = 0; i < r.count(DnsSection.ANSWER); i++) {
          DnsRawRecord rec = r.recordAt(DnsSection.ANSWER, i);
          if (rec.type() == DnsRecordType.A) {
            ips.add(InetAddress.getByAddress(ByteBufUtil.getBytes(rec.content())).getHostAddress());
          }
        }
        return new Reply(r.code().toString().replaceAll("\\(.*", "").toUpperCase(java.util.Locale.ROOT), ips);
      } finally {
        r.release();
        dec.finishAndReleaseAll();
      }
    }
  }

  /** An upstream resolver that knows one name. */
  static final class TinyUpstream implements AutoCloseable {
    static final String NAME = "outside.example.";
    static final byte[] ADDRESS = {(byte) 198, 51, 100, 7};
    final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    final Channel channel;

    TinyUpstream(InetSocketAddress at) throws InterruptedException {
      channel = new Bootstrap().group(group).channel(NioDatagramChannel.class)
          .handler(new ChannelInitializer<DatagramChannel>() {
            @Override
            protected void initChannel(DatagramChannel ch) {
              ch.pipeline().addLast(new DatagramDnsQueryDecoder(), new DatagramDnsResponseEncoder(),
                  new SimpleChannelInboundHandler<DatagramDnsQuery>() {
                    @Override
                    protected void channelRead0(ChannelHandlerContext ctx, DatagramDnsQuery query) {
                      DnsQuestion q = query.recordAt(DnsSection.QUESTION);
                      DatagramDnsResponse r = new DatagramDnsResponse(query.recipient(), query.sender(), query.id());
                      r.setRecursionAvailable(true).setRecursionDesired(query.isRecursionDesired());
                      r.addRecord(DnsSection.QUESTION, new DefaultDnsQuestion(q.name(), q.type()));
                      if (q.name().equalsIgnoreCase(NAME) && q.type() == DnsRecordType.A) {
                        ByteBuf data = Unpooled.wrappedBuffer(ADDRESS);
                        r.addRecord(DnsSection.ANSWER, new DefaultDnsRawRecord(q.name(), DnsRecordType.A, 60, data));
                      } else if (!q.name().equalsIgnoreCase(NAME)) {
                        r.setCode(DnsResponseCode.NXDOMAIN);
                      }
                      ctx.writeAndFlush(r);
                    }
                  });
            }
          }).bind(at).sync().channel();
    }

    InetSocketAddress address() {
      return (InetSocketAddress) channel.localAddress();
    }

    @Override
    public void close() {
      channel.close().awaitUninterruptibly();
      group.shutdownGracefully(0, 1, java.util.concurrent.TimeUnit.SECONDS).awaitUninterruptibly();
    }
  }
}
