package dev.berth.agent.image;

import dev.berth.registry.ImageException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.ExecutionException;

/** Sharing work between concurrent callers and getting its {@link ImageException} back unwrapped. */
final class Futures {
    private Futures() {
    }

    /** Image work that may fail with an {@link ImageException}. */
    interface Work<T> {
        T run() throws ImageException;
    }

    /**
     * Runs {@code work} for {@code key} unless it is running already: the first caller runs it, callers
     * arriving meanwhile wait for its result or its exception ({@link #await}). {@code inFlight} holds the
     * running ones; each entry is removed when its work ends.
     */
    static <K, T> T shared(ConcurrentMap<K, CompletableFuture<T>> inFlight, K key, Work<T> work)
            throws ImageException {
        CompletableFuture<T> mine = new CompletableFuture<>();
        CompletableFuture<T> running = inFlight.putIfAbsent(key, mine);
        if (running != null) {
            return await(running);
        }
        try {
            T result = work.run();
            mine.complete(result);
            return result;
        } catch (ImageException | RuntimeException e) {
            mine.completeExceptionally(e);
            throw e;
        } finally {
            inFlight.remove(key, mine);
        }
    }

    static <T> T await(CompletableFuture<T> f) throws ImageException {
        try {
            return f.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ImageException(ImageException.Kind.LOCAL_IO, "interrupted while waiting for a shared image operation", e);
        } catch (ExecutionException | CompletionException e) {
            Throwable c = e.getCause();
            if (c instanceof ImageException ie) {
                // A fresh exception so the waiter's stack shows where it waited; message and kind are the fetcher's.
                throw new ImageException(ie.kind(), ie.getMessage(), ie);
            }
            if (c instanceof RuntimeException re) {
                throw re;
            }
            throw new ImageException(ImageException.Kind.LOCAL_IO, String.valueOf(c), c);
        }
    }
}
