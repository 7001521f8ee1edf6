package dev.berth.cli.service;

import dev.berth.api.v1.GetRequest;
import dev.berth.api.v1.Service;
import dev.berth.api.v1.ServiceResponse;
import dev.berth.api.v1.ServiceSpec;
import dev.berth.api.v1.UpdateServiceRequest;
import dev.berth.cli.ApiClient;
import dev.berth.cli.UserException;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.io.PrintWriter;
import java.util.function.BiConsumer;
import java.util.function.Consumer;

/**
 * Read-modify-write of a service spec, shared by {@code update} and {@code scale}: reads the
 * service, lets the caller edit a copy of its spec, and sends it with {@code if_version} set to the
 * version read, so an edit made by someone else in between fails instead of being overwritten.
 * An explicit {@code --if-version} replaces the version read (0 sends the update unconditionally).
 */
final class ServiceUpdater {
  private ServiceUpdater() {}

  /**
   * @param edit changes the spec; receives the service as read, for checks
   * @param request sets the request's flags (rollback, force, ...) after spec and version
   */
  static ServiceResponse update(ApiClient api, String ref, Long ifVersion,
      BiConsumer<Service, ServiceSpec.Builder> edit, Consumer<UpdateServiceRequest.Builder> request) {
    Service current = api.read(s -> s.getService(GetRequest.newBuilder().setId(ref).build())).getService();
    ServiceSpec.Builder spec = current.getSpec().toBuilder();
    edit.accept(current, spec);
    long version = ifVersion != null ? ifVersion : current.getMeta().getVersion();
    UpdateServiceRequest.Builder req = UpdateServiceRequest.newBuilder()
        .setService(current.getMeta().getId())
        .setSpec(spec)
        .setIfVersion(version);
    request.accept(req);
    try {
      return api.write((s, w) -> s.updateService(req.setWrite(w).build()));
    } catch (StatusRuntimeException e) {
      if (ifVersion == null && e.getStatus().getCode() == Status.Code.FAILED_PRECONDITION) {
        throw new UserException("service " + current.getSpec().getName() + " changed since it was read at version "
            + version + " (" + e.getStatus().getDescription() + "); nothing was applied, run the command again");
      }
      throw e;
    }
  }

  static void printWarnings(PrintWriter err, ServiceResponse response) {
    for (String w : response.getWarningsList()) {
      err.println("warning: " + w);
    }
    err.flush();
  }
}
