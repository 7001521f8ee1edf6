package dev.berth.agent.image;

/** What one {@link ImageService#gc} removed. */
public record GcResult(int blobsRemoved, int layersRemoved, long bytesFreed) {
}
