package dev.berth.manager.api;

import dev.berth.api.v1.ContainerSpec;
import dev.berth.api.v1.*;
import dev.berth.internal.v1.ApplyResult;
import dev.berth.internal.v1.Command;
import dev.berth.internal.v1.CreateNetwork;
import dev.berth.internal.v1.CreateService;
import dev.berth.internal.v1.LogEntry;
import dev.berth.internal.v1.RemoveNetwork;
import dev.berth.internal.v1.RemoveNode;
import dev.berth.internal.v1.RemoveService;
import dev.berth.internal.v1.RotateToken;
import dev.berth.internal.v1.UpdateNode;
import dev.berth.internal.v1.UpdateService;
import dev.berth.api.v1.NodeRole;
import dev.berth.manager.image.ImagePinner;
import dev.berth.manager.image.RegistryAuthRedaction;
import dev.berth.manager.store.ApplyException;
import io.grpc.Status;
import dev.berth.manager.store.ClusterStore;
import dev.berth.manager.store.Ids;
import dev.berth.manager.store.Proposer;
import dev.berth.manager.store.SpecValidator;
import dev.berth.manager.store.StoreView;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import java.time.Clock;
import java.util.Collection;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.function.Supplier;
import java.util.stream.Collectors;

/**
 * The public {@code ClusterService}: turns requests into log entries (choosing ids and
 * timestamps here, on the proposing side) and serves reads from the local store, after a
 * ReadIndex barrier unless the caller asked for STALE.
 *
 * <p>Thread model: gRPC calls it from its executor; blocking waits are bounded by
 * {@link #TIMEOUT_MS}. Error contract: apply failures map to their status code with the
 * applier's message (which names the field); an unknown outcome maps to UNAVAILABLE and
 * the caller may retry with the same request id.
 *
 * <p>Images are pinned to digests ({@link ImagePinner}) here, before proposing; registry credentials in specs
 * are never returned ({@link RegistryAuthRedaction}).
 */
public final class ClusterApi extends ClusterServiceGrpc.ClusterServiceImplBase {
  static final long TIMEOUT_MS = 30_000;
  private final ClusterStore store;
  private final Proposer proposer;
  private final RaftView raft;
  private final Supplier<Optional<JoinTokenKeeper>> tokens;
  private final Clock clock;
  private final WatchHandler watches;
  private final ManagerMembership membership;
  private final AttachApi attach;
  private final ImagePinner pinner;
  private final UsageSource usage;

  /** Starts a {@link ClusterApiBuilder} with the parts every API needs. */
  public static ClusterApiBuilder builder(ClusterStore store, Proposer proposer, RaftView raft, Clock clock,
      WatchHandler watches) {
    return new ClusterApiBuilder(store, proposer, raft, clock, watches);
  }

  ClusterApi(ClusterApiBuilder b) {
    this.store = b.store;
    this.proposer = b.proposer;
    this.raft = b.raft;
    this.tokens = b.tokens;
    this.clock = b.clock;
    this.watches = b.watches;
    this.membership = b.membership;
    this.attach = new AttachApi(b.store, b.agentStreams, () -> b.raft.leaderAddr());
    this.pinner = b.pinner;
    this.usage = b.usage;
  }

  // ---------------------------------------------------------------- plumbing

  private static <T> void run(StreamObserver<T> obs, Supplier<T> call) {
    T response;
    try {
      response = call.get();
    } catch (StatusRuntimeException e) {
      obs.onError(e);
      return;
    } catch (ApplyException e) {
      obs.onError(Errors.of(e));
      return;
    }
    obs.onNext(response);
    obs.onCompleted();
  }

  /** Proposes one command and waits until it is applied on this manager too. */
  private ApplyResult write(WriteOptions opts, Command cmd) {
    String requestId = opts.getRequestId().isEmpty() ? UUID.randomUUID().toString() : opts.getRequestId();
    SpecValidator.validateRequestId(requestId);
    LogEntry entry = LogEntry.newBuilder().setRequestId(requestId)
        .setTimestampMs(clock.millis()).addCommands(cmd).build();
    ApplyResult r;
    try {
      r = proposer.propose(entry).get(TIMEOUT_MS, TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw Errors.unavailable(e, raft.leaderAddr());
    } catch (Exception e) {
      throw Errors.unavailable(e, raft.leaderAddr());
    }
    if (!r.getCode().equals("OK")) {
      throw Errors.of(r);
    }
    awaitLocal(r.getIndex());
    return r;
  }

  private void awaitLocal(long index) {
    try {
      if (!store.changes().awaitApplied(index, TIMEOUT_MS)) {
        throw Errors.unavailable(new java.util.concurrent.TimeoutException(), raft.leaderAddr());
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw Errors.unavailable(e, raft.leaderAddr());
    }
  }

  private <T> T read(ReadConsistency consistency, Function<StoreView, T> reader) {
    if (consistency != ReadConsistency.STALE) {
      try {
        long idx = raft.readBarrier().get(TIMEOUT_MS, TimeUnit.MILLISECONDS);
        awaitLocal(idx);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw Errors.unavailable(e, raft.leaderAddr());
      } catch (StatusRuntimeException e) {
        throw e;
      } catch (Exception e) {
        throw Errors.unavailable(e, raft.leaderAddr());
      }
    }
    return store.read(reader);
  }

  private static Optional<Service> findService(StoreView v, String idOrName) {
    return v.service(idOrName).or(() -> v.serviceByName(idOrName));
  }

  private static Optional<Node> findNode(StoreView v, String idOrHostname) {
    return v.node(idOrHostname).or(() -> v.nodes().stream()
        .filter(n -> n.getDescription().getHostname().equals(idOrHostname)).findFirst());
  }

  private static Optional<Network> findNetwork(StoreView v, String idOrName) {
    return v.network(idOrName).or(() -> v.networkByName(idOrName));
  }

  // ---------------------------------------------------------------- services

  @Override
  public void createService(CreateServiceRequest req, StreamObserver<ServiceResponse> obs) {
    run(obs, () -> {
      SpecValidator.validateService(req.getSpec());
      ServiceSpec spec = pinner.pin(req.getSpec(), req.getNoResolveImage());
      String id = Ids.newId();
      ApplyResult r = write(req.getWrite(), Command.newBuilder().setCreateService(
          CreateService.newBuilder().setId(id).setSpec(spec)).build());
      String createdId = r.getCreatedIdsCount() > 0 ? r.getCreatedIds(0) : id;
      return serviceResponse(createdId, r.getIndex());
    });
  }

  private ServiceResponse serviceResponse(String id, long index) {
    return store.read(v -> {
      ServiceResponse.Builder b = ServiceResponse.newBuilder().setIndex(Math.max(index, v.index()));
      v.service(id).map(RegistryAuthRedaction::redact).ifPresent(b::setService);
      return b.build();
    });
  }

  @Override
  public void updateService(UpdateServiceRequest req, StreamObserver<ServiceResponse> obs) {
    run(obs, () -> {
      if (!req.getRollback()) {
        SpecValidator.validateService(req.getSpec());
      }
      Optional<Service> current = store.read(v -> findService(v, req.getService()));
      String id = current.map(s -> s.getMeta().getId()).orElse(req.getService());
      ServiceSpec spec = req.getSpec();
      // Pin only an update apply can accept: a missing service or a stale if_version gets apply's own error,
      // not a registry round trip (and not a registry error in its place).
      boolean applicable = current.isPresent()
          && (req.getIfVersion() == 0 || req.getIfVersion() == current.get().getMeta().getVersion());
      if (!req.getRollback() && applicable) {
        spec = RegistryAuthRedaction.restore(spec, current.get().getSpec());
        // A service created with --no-resolve-image stays unpinned through updates that keep its image
        // (scale, env, ...): re-resolving would fail for an image only imported on the nodes.
        ContainerSpec was = current.get().getSpec().getTask().getContainer();
        boolean keepsUnpinnedImage = was.getImageDigest().isEmpty()
            && was.getImage().equals(spec.getTask().getContainer().getImage());
        spec = pinner.pin(spec, req.getNoResolveImage() || keepsUnpinnedImage);
      }
      ApplyResult r = write(req.getWrite(), Command.newBuilder().setUpdateService(
          UpdateService.newBuilder().setId(id).setSpec(spec).setIfVersion(req.getIfVersion())
              .setRebalance(req.getRebalance()).setRollback(req.getRollback()).setForce(req.getForce()))
          .build());
      return serviceResponse(id, r.getIndex());
    });
  }

  @Override
  public void removeService(RemoveServiceRequest req, StreamObserver<RemoveResponse> obs) {
    run(obs, () -> {
      ApplyResult r = write(req.getWrite(), Command.newBuilder().setRemoveService(
          RemoveService.newBuilder().setId(req.getService()).setIfVersion(req.getIfVersion())).build());
      return RemoveResponse.newBuilder().setIndex(r.getIndex()).build();
    });
  }

  @Override
  public void getService(GetRequest req, StreamObserver<ServiceResponse> obs) {
    run(obs, () -> read(req.getConsistency(), v -> ServiceResponse.newBuilder().setIndex(v.index())
        .setService(findService(v, req.getId()).map(RegistryAuthRedaction::redact)
            .orElseThrow(() -> Errors.notFound("service \"" + req.getId() + "\" not found")))
        .build()));
  }

  @Override
  public void listServices(ListRequest req, StreamObserver<ListServicesResponse> obs) {
    run(obs, () -> read(req.getConsistency(), v -> {
      ListServicesResponse.Builder b = ListServicesResponse.newBuilder().setIndex(v.index());
      for (Service s : v.services()) {
        if (!s.getSpec().getName().startsWith(req.getNamePrefix())
            || !Labels.match(s.getSpec().getLabelsMap(), req.getLabelSelectorList())) {
          continue;
        }
        b.addServices(RegistryAuthRedaction.redact(s));
        List<Task> tasks = v.tasksOfService(s.getMeta().getId());
        long running = tasks.stream().filter(t -> t.getStatus().getState() == TaskState.RUNNING
            && t.getDesiredState() == TaskState.RUNNING).count();
        long desired = s.getSpec().hasReplicated() ? s.getSpec().getReplicated().getReplicas()
            : tasks.stream().filter(t -> t.getDesiredState() == TaskState.RUNNING).count();
        b.putReplicaCounts(s.getMeta().getId(),
            ReplicaCount.newBuilder().setRunning(running).setDesired(desired).build());
      }
      return b.build();
    }));
  }

  // ---------------------------------------------------------------- tasks

  @Override
  public void listTasks(ListTasksRequest req, StreamObserver<ListTasksResponse> obs) {
    run(obs, () -> read(req.getConsistency(), v -> {
      Collection<Task> base;
      if (!req.getService().isEmpty()) {
        base = findService(v, req.getService())
            .map(s -> (Collection<Task>) v.tasksOfService(s.getMeta().getId()))
            .orElseThrow(() -> Errors.notFound("service \"" + req.getService() + "\" not found"));
      } else if (!req.getNode().isEmpty()) {
        base = findNode(v, req.getNode()).map(n -> (Collection<Task>) v.tasksOfNode(n.getMeta().getId()))
            .orElseThrow(() -> Errors.notFound("node \"" + req.getNode() + "\" not found"));
      } else {
        base = v.tasks();
      }
      String nodeId = req.getNode().isEmpty() ? "" : findNode(v, req.getNode())
          .map(n -> n.getMeta().getId())
          .orElseThrow(() -> Errors.notFound("node \"" + req.getNode() + "\" not found"));
      List<Task> out = base.stream()
          .filter(t -> nodeId.isEmpty() || t.getNodeId().equals(nodeId))
          .filter(t -> req.getStatesCount() == 0 || req.getStatesList().contains(t.getStatus().getState()))
          .filter(t -> !req.getDesiredRunning() || t.getDesiredState() == TaskState.RUNNING)
          .sorted(java.util.Comparator.comparing(Task::getServiceName).thenComparing(Task::getSlot)
              .thenComparing(t -> t.getMeta().getId()))
          .map(this::withUsage).collect(Collectors.toList());
      return ListTasksResponse.newBuilder().addAllTasks(out.stream().map(RegistryAuthRedaction::redact).toList())
          .setIndex(v.index()).build();
    }));
  }

  @Override
  public void getTask(GetRequest req, StreamObserver<TaskResponse> obs) {
    run(obs, () -> read(req.getConsistency(), v -> TaskResponse.newBuilder().setIndex(v.index())
        .setTask(v.task(req.getId()).map(this::withUsage).map(RegistryAuthRedaction::redact)
            .orElseThrow(() -> Errors.notFound("task \"" + req.getId() + "\" not found")))
        .build()));
  }

  private Task withUsage(Task t) {
    if (t.getNodeId().isEmpty()) {
      return t;
    }
    return usage.taskUsage(t.getNodeId(), t.getMeta().getId())
        .map(u -> t.toBuilder().setUsage(u).build()).orElse(t);
  }

  // ---------------------------------------------------------------- nodes

  /** Adds what is not in the log: the node's latest usage reading and whether it leads. */
  private Node decorate(Node stored) {
    Node n = usage.nodeUsage(stored.getMeta().getId())
        .map(u -> stored.toBuilder().setUsage(u).build()).orElse(stored);
    if (!n.hasManagerStatus()) {
      return n;
    }
    boolean leader = raft.managers().stream()
        .anyMatch(m -> m.getLeader() && m.getNodeId().equals(n.getMeta().getId()));
    return n.toBuilder().setManagerStatus(n.getManagerStatus().toBuilder().setLeader(leader)).build();
  }

  @Override
  public void listNodes(ListRequest req, StreamObserver<ListNodesResponse> obs) {
    run(obs, () -> read(req.getConsistency(), v -> ListNodesResponse.newBuilder().setIndex(v.index())
        .addAllNodes(v.nodes().stream()
            .filter(n -> n.getDescription().getHostname().startsWith(req.getNamePrefix()))
            .filter(n -> Labels.match(n.getSpec().getLabelsMap(), req.getLabelSelectorList()))
            .map(this::decorate).collect(Collectors.toList()))
        .build()));
  }

  @Override
  public void getNode(GetRequest req, StreamObserver<NodeResponse> obs) {
    run(obs, () -> read(req.getConsistency(), v -> NodeResponse.newBuilder().setIndex(v.index())
        .setNode(decorate(findNode(v, req.getId())
            .orElseThrow(() -> Errors.notFound("node \"" + req.getId() + "\" not found"))))
        .build()));
  }

  private String nodeId(String idOrHostname) {
    return store.read(v -> findNode(v, idOrHostname)).map(n -> n.getMeta().getId())
        .orElseThrow(() -> Errors.notFound("node \"" + idOrHostname + "\" not found"));
  }

  @Override
  public void updateNode(UpdateNodeRequest req, StreamObserver<NodeResponse> obs) {
    run(obs, () -> {
      String id = nodeId(req.getNode());
      long ifVersion = req.getIfVersion();
      if (req.hasDesiredRole() && req.getDesiredRole() == NodeRole.WORKER && membership.isMember(id)) {
        // Demote (as Swarm): leave the Raft group first, refusing to break quorum, on the
        // leader. The version is checked before, as the membership change itself bumps it.
        membership.handOverIfLeading(id);
        if (!proposer.isLeader()) {
          return membership.atLeader(ch -> ClusterServiceGrpc.newBlockingStub(ch)
              .withDeadlineAfter(TIMEOUT_MS * 3, TimeUnit.MILLISECONDS).updateNode(req));
        }
        store.read(v -> v.node(id)).ifPresent(n ->
            ApplyException.checkVersion("node " + id, req.getIfVersion(), n.getMeta().getVersion()));
        membership.removeHere(id, false, "demoting");
        ifVersion = 0;
      }
      UpdateNode.Builder u = UpdateNode.newBuilder().setId(id).setIfVersion(ifVersion)
          .putAllLabelAdd(req.getLabelAddMap()).addAllLabelRm(req.getLabelRmList());
      if (req.hasAvailability()) {
        u.setAvailability(req.getAvailability());
      }
      if (req.hasDesiredRole()) {
        u.setDesiredRole(req.getDesiredRole());
      }
      ApplyResult r = write(req.getWrite(), Command.newBuilder().setUpdateNode(u).build());
      return store.read(v -> NodeResponse.newBuilder().setIndex(r.getIndex())
          .setNode(decorate(v.node(id).orElseThrow(() -> Errors.notFound("node " + id + " not found"))))
          .build());
    });
  }

  @Override
  public void removeNode(RemoveNodeRequest req, StreamObserver<RemoveResponse> obs) {
    run(obs, () -> {
      String id = nodeId(req.getNode());
      if (membership.isMember(id)) {
        if (!req.getForce()) {
          throw Status.FAILED_PRECONDITION.withDescription("node " + id + " is a manager: demote it first"
              + " (berth node demote " + req.getNode() + "), or use --force").asRuntimeException();
        }
        membership.handOverIfLeading(id);
        if (!proposer.isLeader()) {
          return membership.atLeader(ch -> ClusterServiceGrpc.newBlockingStub(ch)
              .withDeadlineAfter(TIMEOUT_MS * 3, TimeUnit.MILLISECONDS).removeNode(req));
        }
        membership.removeHere(id, true, "removing");
      }
      ApplyResult r = write(req.getWrite(), Command.newBuilder().setRemoveNode(
          RemoveNode.newBuilder().setId(id).setForce(req.getForce())).build());
      return RemoveResponse.newBuilder().setIndex(r.getIndex()).build();
    });
  }

  // ---------------------------------------------------------------- networks

  @Override
  public void createNetwork(CreateNetworkRequest req, StreamObserver<NetworkResponse> obs) {
    run(obs, () -> {
      SpecValidator.validateNetwork(req.getSpec());
      String id = Ids.newId();
      ApplyResult r = write(req.getWrite(), Command.newBuilder().setCreateNetwork(
          CreateNetwork.newBuilder().setId(id).setSpec(req.getSpec())).build());
      String createdId = r.getCreatedIdsCount() > 0 ? r.getCreatedIds(0) : id;
      return store.read(v -> {
        NetworkResponse.Builder b = NetworkResponse.newBuilder().setIndex(r.getIndex());
        v.network(createdId).ifPresent(b::setNetwork);
        return b.build();
      });
    });
  }

  @Override
  public void removeNetwork(RemoveNetworkRequest req, StreamObserver<RemoveResponse> obs) {
    run(obs, () -> {
      ApplyResult r = write(req.getWrite(), Command.newBuilder().setRemoveNetwork(
          RemoveNetwork.newBuilder().setId(req.getNetwork())).build());
      return RemoveResponse.newBuilder().setIndex(r.getIndex()).build();
    });
  }

  @Override
  public void getNetwork(GetRequest req, StreamObserver<NetworkResponse> obs) {
    run(obs, () -> read(req.getConsistency(), v -> NetworkResponse.newBuilder().setIndex(v.index())
        .setNetwork(findNetwork(v, req.getId())
            .orElseThrow(() -> Errors.notFound("network \"" + req.getId() + "\" not found")))
        .build()));
  }

  @Override
  public void listNetworks(ListRequest req, StreamObserver<ListNetworksResponse> obs) {
    run(obs, () -> read(req.getConsistency(), v -> ListNetworksResponse.newBuilder().setIndex(v.index())
        .addAllNetworks(v.networks().stream()
            .filter(n -> n.getSpec().getName().startsWith(req.getNamePrefix()))
            .filter(n -> Labels.match(n.getSpec().getLabelsMap(), req.getLabelSelectorList()))
            .collect(Collectors.toList()))
        .build()));
  }

  // ---------------------------------------------------------------- cluster

  @Override
  public void getCluster(GetClusterRequest req, StreamObserver<GetClusterResponse> obs) {
    run(obs, () -> {
      Optional<Cluster> cluster = read(req.getConsistency(), StoreView::cluster);
      GetClusterResponse.Builder b = GetClusterResponse.newBuilder()
          .addAllManagers(raft.managers()).setAnsweredBy(raft.selfId()).setTerm(raft.term())
          .setCommitIndex(raft.commitIndex()).setAppliedIndex(raft.appliedIndex())
          .setStateDigest(store.digest()).setLeaderAddr(raft.leaderAddr());
      cluster.ifPresent(b::setCluster);
      return b.build();
    });
  }

  private JoinTokenKeeper keeper() {
    return tokens.get().orElseThrow(() -> io.grpc.Status.FAILED_PRECONDITION
        .withDescription("this manager has no cluster root secret (state dir incomplete)")
        .asRuntimeException());
  }

  @Override
  public void getJoinTokens(GetJoinTokensRequest req, StreamObserver<JoinTokens> obs) {
    run(obs, () -> keeper().tokens(read(ReadConsistency.LINEARIZABLE, StoreView::cluster)
        .orElseThrow(() -> io.grpc.Status.FAILED_PRECONDITION
            .withDescription("cluster is not initialized").asRuntimeException())));
  }

  @Override
  public void rotateJoinToken(RotateJoinTokenRequest req, StreamObserver<JoinTokens> obs) {
    run(obs, () -> {
      JoinTokenKeeper k = keeper();
      Cluster c = read(ReadConsistency.LINEARIZABLE, StoreView::cluster)
          .orElseThrow(() -> io.grpc.Status.FAILED_PRECONDITION
              .withDescription("cluster is not initialized").asRuntimeException());
      int next = k.rotation(c, req.getRole()) + 1;
      String hash = JoinTokenKeeper.hash(k.secret(req.getRole(), next));
      write(req.getWrite(), Command.newBuilder().setRotateToken(
          RotateToken.newBuilder().setRole(req.getRole()).setTokenHash(hash)).build());
      return k.tokens(store.read(StoreView::cluster).orElseThrow());
    });
  }

  @Override
  public void watch(WatchRequest req, StreamObserver<WatchEvent> obs) {
    watches.start(req, obs);
  }

  // ---------------------------------------------------------------- logs and exec

  @Override
  public void serviceLogs(ServiceLogsRequest req, StreamObserver<LogChunk> obs) {
    attach.serviceLogs(req, obs);
  }

  @Override
  public StreamObserver<ExecInput> exec(StreamObserver<ExecOutput> obs) {
    return attach.exec(obs);
  }
}
