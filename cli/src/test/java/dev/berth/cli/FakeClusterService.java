package dev.berth.cli;

import com.google.protobuf.Message;
import dev.berth.api.v1.ClusterServiceGrpc;
import dev.berth.api.v1.CreateNetworkRequest;
import dev.berth.api.v1.CreateServiceRequest;
import dev.berth.api.v1.GetClusterRequest;
import dev.berth.api.v1.GetClusterResponse;
import dev.berth.api.v1.GetJoinTokensRequest;
import dev.berth.api.v1.GetRequest;
import dev.berth.api.v1.JoinTokens;
import dev.berth.api.v1.ListNetworksResponse;
import dev.berth.api.v1.ListNodesResponse;
import dev.berth.api.v1.ListRequest;
import dev.berth.api.v1.ListServicesResponse;
import dev.berth.api.v1.ListTasksRequest;
import dev.berth.api.v1.ListTasksResponse;
import dev.berth.api.v1.Meta;
import dev.berth.api.v1.Network;
import dev.berth.api.v1.NetworkResponse;
import dev.berth.api.v1.Node;
import dev.berth.api.v1.NodeResponse;
import dev.berth.api.v1.RemoveNetworkRequest;
import dev.berth.api.v1.RemoveNodeRequest;
import dev.berth.api.v1.RemoveResponse;
import dev.berth.api.v1.RemoveServiceRequest;
import dev.berth.api.v1.RotateJoinTokenRequest;
import dev.berth.api.v1.Service;
import dev.berth.api.v1.ServiceResponse;
import dev.berth.api.v1.UpdateNodeRequest;
import dev.berth.api.v1.UpdateServiceRequest;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import dev.berth.api.v1.ExecInput;
import dev.berth.api.v1.ExecOutput;
import dev.berth.api.v1.ExecStart;
import dev.berth.api.v1.LogChunk;
import dev.berth.api.v1.ServiceLogsRequest;

/**
 * A ClusterService for command tests: records every request, answers from canned objects set by
 * the test, and fails the next calls of a method with statuses queued by {@link #failNext}.
 * Services live in a small map so that update/get round trips behave like a cluster: an update
 * bumps the version and honours if_version.
 */
final class FakeClusterService extends ClusterServiceGrpc.ClusterServiceImplBase {
  private final List<Message> received = new ArrayList<>();
  private final Map<String, Deque<Status>> failures = new HashMap<>();
  private final Map<String, Integer> hanging = new HashMap<>();
  private final Map<String, Service> services = new HashMap<>();
  private long version = 10;

  ListServicesResponse listServices = ListServicesResponse.getDefaultInstance();
  ListTasksResponse listTasks = ListTasksResponse.getDefaultInstance();
  ListNodesResponse listNodes = ListNodesResponse.getDefaultInstance();
  ListNetworksResponse listNetworks = ListNetworksResponse.getDefaultInstance();
  GetClusterResponse cluster = GetClusterResponse.getDefaultInstance();
  JoinTokens tokens = JoinTokens.getDefaultInstance();
  final Map<String, Node> nodes = new HashMap<>();

  synchronized void failNext(String method, Status... statuses) {
    failures.computeIfAbsent(method, m -> new ArrayDeque<>()).addAll(List.of(statuses));
  }

  /**
   * The next {@code count} calls of {@code method} are recorded and never answered, as by a manager
   * that took the request and then stalled (paused, partitioned from its peers).
   */
  synchronized void hangNext(String method, int count) {
    hanging.merge(method, count, Integer::sum);
  }

  synchronized void putService(Service s) {
    services.put(s.getSpec().getName(), s);
  }

  synchronized Service service(String name) {
    return services.get(name);
  }

  synchronized List<Message> received() {
    return List.copyOf(received);
  }

  /** The requests of one type, in arrival order. */
  synchronized <T extends Message> List<T> received(Class<T> type) {
    return received.stream().filter(type::isInstance).map(type::cast).toList();
  }

  /**
   * Records the request; fails the call if a failure is queued for the method, or leaves it
   * unanswered if it is to hang (returns true then).
   */
  private boolean failed(String method, Message request, StreamObserver<?> observer) {
    Status failure;
    synchronized (this) {
      received.add(request);
      if (hanging.getOrDefault(method, 0) > 0) {
        hanging.merge(method, -1, Integer::sum);
        return true;
      }
      Deque<Status> q = failures.get(method);
      failure = q == null ? null : q.poll();
    }
    if (failure != null) {
      observer.onError(failure.asRuntimeException());
    }
    return failure != null;
  }

  private <T> void answer(String method, Message request, StreamObserver<T> observer, Supplier<T> response) {
    if (failed(method, request, observer)) {
      return;
    }
    T value;
    try {
      synchronized (this) {
        value = response.get();
      }
    } catch (io.grpc.StatusRuntimeException e) {
      observer.onError(e);
      return;
    }
    observer.onNext(value);
    observer.onCompleted();
  }

  private Service find(String ref) {
    Service s = services.get(ref);
    if (s == null) {
      s = services.values().stream().filter(x -> x.getMeta().getId().equals(ref)).findFirst().orElse(null);
    }
    if (s == null) {
      throw Status.NOT_FOUND.withDescription("service " + ref + " not found").asRuntimeException();
    }
    return s;
  }

  @Override
  public void createService(CreateServiceRequest req, StreamObserver<ServiceResponse> obs) {
    answer("CreateService", req, obs, () -> {
      Service s = Service.newBuilder()
          .setMeta(Meta.newBuilder().setId("svc" + (services.size() + 1) + "abcdefghijklmnopqrstu").setVersion(++version))
          .setSpec(req.getSpec()).build();
      services.put(s.getSpec().getName(), s);
      return ServiceResponse.newBuilder().setService(s).setIndex(version).build();
    });
  }

  @Override
  public void getService(GetRequest req, StreamObserver<ServiceResponse> obs) {
    answer("GetService", req, obs, () -> ServiceResponse.newBuilder().setService(find(req.getId())).build());
  }

  @Override
  public void updateService(UpdateServiceRequest req, StreamObserver<ServiceResponse> obs) {
    answer("UpdateService", req, obs, () -> {
      Service s = find(req.getService());
      if (req.getIfVersion() != 0 && req.getIfVersion() != s.getMeta().getVersion()) {
        throw Status.FAILED_PRECONDITION.withDescription("if_version: service " + s.getSpec().getName()
            + " is at version " + s.getMeta().getVersion() + ", not " + req.getIfVersion()).asRuntimeException();
      }
      Service updated = s.toBuilder().setSpec(req.getSpec()).setPreviousSpec(s.getSpec())
          .setMeta(s.getMeta().toBuilder().setVersion(++version)).build();
      services.put(updated.getSpec().getName(), updated);
      return ServiceResponse.newBuilder().setService(updated).setIndex(version).build();
    });
  }

  @Override
  public void removeService(RemoveServiceRequest req, StreamObserver<RemoveResponse> obs) {
    answer("RemoveService", req, obs, () -> {
      services.remove(find(req.getService()).getSpec().getName());
      return RemoveResponse.newBuilder().setIndex(++version).build();
    });
  }

  @Override
  public void listServices(ListRequest req, StreamObserver<ListServicesResponse> obs) {
    answer("ListServices", req, obs, () -> listServices);
  }

  @Override
  public void listTasks(ListTasksRequest req, StreamObserver<ListTasksResponse> obs) {
    answer("ListTasks", req, obs, () -> listTasks);
  }

  @Override
  public void listNodes(ListRequest req, StreamObserver<ListNodesResponse> obs) {
    answer("ListNodes", req, obs, () -> listNodes);
  }

  @Override
  public void getNode(GetRequest req, StreamObserver<NodeResponse> obs) {
    answer("GetNode", req, obs, () -> {
      Node n = nodes.get(req.getId());
      if (n == null) {
        throw Status.NOT_FOUND.withDescription("node " + req.getId() + " not found").asRuntimeException();
      }
      return NodeResponse.newBuilder().setNode(n).build();
    });
  }

  @Override
  public void updateNode(UpdateNodeRequest req, StreamObserver<NodeResponse> obs) {
    answer("UpdateNode", req, obs, () -> NodeResponse.getDefaultInstance());
  }

  @Override
  public void removeNode(RemoveNodeRequest req, StreamObserver<RemoveResponse> obs) {
    answer("RemoveNode", req, obs, () -> RemoveResponse.getDefaultInstance());
  }

  @Override
  public void createNetwork(CreateNetworkRequest req, StreamObserver<NetworkResponse> obs) {
    answer("CreateNetwork", req, obs, () -> NetworkResponse.newBuilder().setNetwork(Network.newBuilder()
        .setMeta(Meta.newBuilder().setId("net1abcdefghijklmnopqrstu")).setSpec(req.getSpec())).build());
  }

  @Override
  public void removeNetwork(RemoveNetworkRequest req, StreamObserver<RemoveResponse> obs) {
    answer("RemoveNetwork", req, obs, () -> RemoveResponse.getDefaultInstance());
  }

  @Override
  public void listNetworks(ListRequest req, StreamObserver<ListNetworksResponse> obs) {
    answer("ListNetworks", req, obs, () -> listNetworks);
  }

  @Override
  public void getCluster(GetClusterRequest req, StreamObserver<GetClusterResponse> obs) {
    answer("GetCluster", req, obs, () -> cluster);
  }

  @Override
  public void getJoinTokens(GetJoinTokensRequest req, StreamObserver<JoinTokens> obs) {
    answer("GetJoinTokens", req, obs, () -> tokens);
  }

  @Override
  public void rotateJoinToken(RotateJoinTokenRequest req, StreamObserver<JoinTokens> obs) {
    answer("RotateJoinToken", req, obs, () -> tokens);
  }

  /** What ServiceLogs streams (then completes). */
  List<LogChunk> logChunks = List.of();
  /** Exec answers: stdout is "ran ARGV" plus the stdin received, exit code this. */
  int execExitCode;

  @Override
  public void serviceLogs(ServiceLogsRequest req, StreamObserver<LogChunk> obs) {
    if (!failed("ServiceLogs", req, obs)) {
      logChunks.forEach(obs::onNext);
      obs.onCompleted();
    }
  }

  @Override
  public StreamObserver<ExecInput> exec(StreamObserver<ExecOutput> obs) {
    java.io.ByteArrayOutputStream stdin = new java.io.ByteArrayOutputStream();
    return new StreamObserver<>() {
      @Override
      public void onNext(ExecInput in) {
        switch (in.getMsgCase()) {
          case START -> {
            if (!failed("Exec", in.getStart(), obs)) {
              obs.onNext(ExecOutput.getDefaultInstance()); // started
            }
          }
          case STDIN -> stdin.writeBytes(in.getStdin().toByteArray());
          case CLOSE_STDIN -> {
            List<ExecStart> starts = received(ExecStart.class);
            String argv = String.join(" ", starts.get(starts.size() - 1).getArgvList());
            obs.onNext(ExecOutput.newBuilder().setStdout(com.google.protobuf.ByteString.copyFromUtf8(
                "ran " + argv + "\n" + stdin.toString(java.nio.charset.StandardCharsets.UTF_8)))
                .setStderr(com.google.protobuf.ByteString.copyFromUtf8("to stderr\n")).build());
            obs.onNext(ExecOutput.newBuilder().setExited(true).setExitCode(execExitCode).build());
            obs.onCompleted();
          }
          default -> { }
        }
      }

      @Override
      public void onError(Throwable t) {
      }

      @Override
      public void onCompleted() {
      }
    };
  }
}
