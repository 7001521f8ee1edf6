package dev.berth.net.mesh;

import java.net.InetSocketAddress;

/**
 * One task behind a published port: its overlay address and target port, the node it
 * runs on, and whether its health check passes. Immutable.
 */
public record Backend(String taskId, String nodeId, InetSocketAddress address, boolean healthy) {}
