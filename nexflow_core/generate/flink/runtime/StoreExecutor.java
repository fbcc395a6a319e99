package nexflow.runtime;

import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;
import java.util.function.Supplier;

/**
 * The threads a remote store's client runs its blocking calls on (one per parallel operator
 * instance that opens the client), with a bounded queue in front of them.
 *
 * <p>Why bounded: a lookup record gives up on its read after {@code read_timeout} and frees its
 * async slot at once, so the next record can queue another read while the stale one still
 * waits. With an unbounded queue, whenever reads arrive faster than the threads finish them (a
 * slow or failing-over server, the empty cache after a restart, a traffic peak), the backlog
 * only grows: every later read waits behind stale ones and times out too, and the heap grows,
 * until traffic drops. Here the queue holds at most {@link #queueBound} calls; a call that finds
 * it full fails at once with {@code STORE_UNAVAILABLE} (so a lookup takes its
 * {@code on lookup_error} path and counts it; a write is tried again, then
 * {@code on persist_error} decides), and a read whose every waiter has given up by the time a
 * thread takes it is not sent to the store at all ({@link #read}).
 */
final class StoreExecutor {
    private final String store;
    private final int bound;
    private final ThreadPoolExecutor threads;
    private final AtomicLong skipped = new AtomicLong();
    private final AtomicLong rejected = new AtomicLong();

    StoreExecutor(String store, int threads) {
        this(store, threads, queueBound(threads));
    }

    StoreExecutor(String store, int threads, int bound) {
        this.store = store;
        this.bound = bound;
        AtomicInteger count = new AtomicInteger();
        this.threads = new ThreadPoolExecutor(threads, threads, 0L, TimeUnit.MILLISECONDS,
                new ArrayBlockingQueue<>(bound), runnable -> {
                    Thread thread = new Thread(runnable, "nexflow-store-" + store + "-" + count.incrementAndGet());
                    thread.setDaemon(true);
                    return thread;
                }, new ThreadPoolExecutor.AbortPolicy());
    }

    /**
     * How many calls may wait for one of {@code threads} threads: {@link Stores#CAPACITY}, the
     * most records one async operator instance has waiting at once. Every read someone still
     * waits for fits, even while all the threads are busy with reads nobody waits for any more
     * (a started read runs to its end); the queue is full only when it holds reads that every
     * waiter gave up on, and those are skipped in no time once a thread is free. So a read is
     * refused only when the store is behind by a whole operator's worth of records. Never less
     * than {@code threads}.
     */
    static int queueBound(int threads) {
        return Math.max(Stores.CAPACITY, threads);
    }

    /**
     * Runs {@code call} on a store thread, unless by then {@code System.nanoTime()} has passed
     * {@code deadlineNanos} (the latest deadline of the records waiting for it, read when a
     * thread takes the call): then the store is not asked and the future fails with
     * {@code STORE_UNAVAILABLE}, as it does at once when the queue is full.
     */
    <V> CompletableFuture<V> read(LongSupplier deadlineNanos, Supplier<V> call) {
        return submit(() -> {
            if (System.nanoTime() - deadlineNanos.getAsLong() >= 0) {
                skipped.incrementAndGet();
                throw new CompletionException(new StoreException(store, StoreException.UNAVAILABLE,
                        "read not sent: every record waiting for it had given up (the store is behind)", null));
            }
            return call.get();
        });
    }

    /** Runs {@code call} (a write: never skipped) on a store thread, or fails when the queue is full. */
    <V> CompletableFuture<V> write(Supplier<V> call) {
        return submit(call);
    }

    private <V> CompletableFuture<V> submit(Supplier<V> call) {
        CompletableFuture<V> out = new CompletableFuture<>();
        try {
            threads.execute(() -> {
                try {
                    out.complete(call.get());
                } catch (CompletionException e) {
                    out.completeExceptionally(e.getCause() != null ? e.getCause() : e);
                } catch (Throwable e) {
                    out.completeExceptionally(e);
                }
            });
        } catch (RejectedExecutionException e) {
            boolean closed = threads.isShutdown();
            if (!closed) {
                rejected.incrementAndGet();
            }
            // The refusal is the cause: a lookup's log line and dead letter name it (Lookups).
            out.completeExceptionally(new StoreException(store, StoreException.UNAVAILABLE,
                    closed ? "the store's client is closed"
                            : "the store's queue is full (" + bound + " calls wait for its "
                                    + threads.getMaximumPoolSize() + " threads): the store is behind",
                    closed ? null : e));
        }
        return out;
    }

    /** Calls waiting for a thread now. */
    int queued() {
        return threads.getQueue().size();
    }

    int bound() {
        return bound;
    }

    /** Reads not sent because nobody waited for them any more. */
    long skipped() {
        return skipped.get();
    }

    /** Calls refused because the queue was full. */
    long rejected() {
        return rejected.get();
    }

    void shutdown() {
        threads.shutdown();
    }
}
