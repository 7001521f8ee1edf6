package dev.berth.agent.image;

import dev.berth.registry.ImageException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;

/** Waiting on shared work and getting its {@link ImageException} back unwrapped. */
final class Futures {
    private Futures() {
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
