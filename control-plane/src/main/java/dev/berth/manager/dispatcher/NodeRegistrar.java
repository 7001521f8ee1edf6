package dev.berth.manager.dispatcher;

import dev.berth.api.v1.Cluster;
import dev.berth.api.v1.Meta;
import dev.berth.api.v1.Node;
import dev.berth.api.v1.NodeAvailability;
import dev.berth.api.v1.NodeRole;
import dev.berth.api.v1.NodeSpec;
import dev.berth.api.v1.NodeState;
import dev.berth.api.v1.NodeStatus;
import dev.berth.api.v1.RegisterRequest;
import dev.berth.api.v1.RegisterResponse;
import dev.berth.internal.v1.ApplyResult;
import dev.berth.internal.v1.RegisterNode;
import dev.berth.internal.v1.RegisterNodes;
import dev.berth.manager.orchestrator.IdGenerator;
import dev.berth.manager.store.SpecValidator;
import dev.berth.manager.store.Store;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import java.time.Clock;
import java.util.Optional;

/**
 * The agent API's {@code Register}: checks the join token, answers a known node (or a retried
 * registration, by its request id) with its id, and otherwise batches a new worker node into the
 * log ({@link RegistrationBatcher}) and answers once it is applied.
 *
 * <p>Thread model: called on gRPC threads; answers from the batcher's completion. Error contract:
 * FAILED_PRECONDITION before init, UNAUTHENTICATED bad token, INVALID_ARGUMENT naming the field,
 * UNAVAILABLE when the outcome is unknown (the agent retries with the same request id).
 */
final class NodeRegistrar {
  private final Store store;
  private final RegistrationBatcher registrations;
  private final Membership membership;
  private final Clock clock;
  private final IdGenerator ids;

  NodeRegistrar(Store store, RegistrationBatcher registrations, Membership membership, Clock clock, IdGenerator ids) {
    this.store = store;
    this.registrations = registrations;
    this.membership = membership;
    this.clock = clock;
    this.ids = ids;
  }

  void register(RegisterRequest request, StreamObserver<RegisterResponse> response) {
    Optional<Cluster> cluster = store.read(v -> v.cluster());
    if (cluster.isEmpty()) {
      response.onError(Status.FAILED_PRECONDITION.withDescription("cluster is not initialized").asRuntimeException());
      return;
    }
    Optional<NodeRole> role = JoinTokens.verify(request.getToken(), cluster.get());
    if (role.isEmpty()) {
      response.onError(Status.UNAUTHENTICATED.withDescription("token: not a valid join token for this cluster").asRuntimeException());
      return;
    }
    String requested = request.getNodeId();
    Optional<Node> existing = requested.isEmpty() ? Optional.empty() : store.read(v -> v.node(requested));
    if (existing.isPresent()) {
      response.onNext(registered(existing.get().getMeta().getId(), existing.get().getRole()));
      response.onCompleted();
      return;
    }
    if (requested.length() > 64) {
      response.onError(Status.INVALID_ARGUMENT.withDescription("node_id: at most 64 characters").asRuntimeException());
      return;
    }
    String requestId = request.getRequestId();
    if (!requestId.isEmpty() && !SpecValidator.isValidRequestId(requestId)) {
      response.onError(Status.INVALID_ARGUMENT.withDescription(
          "request_id: must be 1..64 printable ASCII characters without spaces").asRuntimeException());
      return;
    }
    Optional<String> earlier = store.requestOutcome(requestId)
        .filter(r -> "OK".equals(r.getCode()) && r.getCreatedIdsCount() > 0).map(r -> r.getCreatedIds(0));
    if (earlier.isPresent()) {
      response.onNext(registered(earlier.get(), NodeRole.WORKER)); // a retry: the node it got then
      response.onCompleted();
      return;
    }
    String nodeId = requested.isEmpty() ? ids.next() : requested;
    long now = clock.millis();
    Node node = Node.newBuilder()
        .setMeta(Meta.newBuilder().setId(nodeId).setCreatedAtMs(now).setUpdatedAtMs(now))
        .setSpec(NodeSpec.newBuilder().putAllLabels(request.getLabelsMap())
            .setAvailability(NodeAvailability.ACTIVE).setDesiredRole(role.get()))
        .setDescription(request.getDescription())
        .setStatus(NodeStatus.newBuilder().setState(NodeState.NODE_UNKNOWN).setChangedAtMs(now)
            .setMessage("registered"))
        .setRole(NodeRole.WORKER)
        .build();
    registrations.submit(RegisterNodes.Item.newBuilder().setRequestId(requestId)
        .setRegister(RegisterNode.newBuilder().setNode(node)).build())
        .whenComplete((result, error) -> {
          if (error != null) {
            response.onError(Status.UNAVAILABLE.withDescription("registration not committed: " + error.getMessage())
                .asRuntimeException());
            return;
          }
          // The entry applies each registration on its own: this one's outcome is recorded
          // under its request id; without one, the node is there or it is not.
          Optional<ApplyResult> mine = requestId.isEmpty() ? Optional.empty() : store.requestOutcome(requestId);
          String code = mine.map(ApplyResult::getCode).orElse(result.getCode());
          if (mine.isPresent() && "OK".equals(code) && mine.get().getCreatedIdsCount() > 0) {
            response.onNext(registered(mine.get().getCreatedIds(0), NodeRole.WORKER));
            response.onCompleted();
          } else if ("OK".equals(code) || "ALREADY_EXISTS".equals(code)) {
            Optional<Node> registered = store.read(v -> v.node(nodeId));
            if (registered.isPresent()) {
              response.onNext(registered(nodeId, registered.get().getRole()));
              response.onCompleted();
            } else {
              response.onError(Status.UNAVAILABLE.withDescription("registration of node " + nodeId
                  + " was not applied; retry").asRuntimeException());
            }
          } else {
            response.onError(Status.fromCode(Status.Code.valueOf(code))
                .withDescription(mine.map(ApplyResult::getMessage).orElse(result.getMessage()))
                .asRuntimeException());
          }
        });
  }

  private RegisterResponse registered(String nodeId, NodeRole role) {
    return RegisterResponse.newBuilder().setNodeId(nodeId).addAllManagers(membership.leaderFirst())
        .setRole(role).build();
  }
}
