package dev.berth.agent.image;

/** What one {@link ImageService#collect} removed. */
public record GcResult(int imagesRemoved, int blobsRemoved, int layersRemoved, long bytesFreed) {
}
