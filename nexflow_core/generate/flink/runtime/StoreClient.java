package nexflow.runtime;

import java.io.Serializable;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.function.LongSupplier;

/**
 * A client of a keyed store ({@code store name: Schema key field} in a schema file), as
 * {@code emit to ... persist to <store> [async]} and {@code lookup <store> by ...} use it. Implementations must be safe to call from
 * one operator thread while earlier futures complete on other threads.
 *
 * <p>A client bounds its own calls: a remote one fails a call (with a {@link StoreException}
 * {@code STORE_UNAVAILABLE}, or a {@link java.util.concurrent.TimeoutException}) when it has
 * run longer than the store's {@code read_timeout} ({@link Stores#readTimeoutMillis}) or
 * {@code write_timeout} ({@link Stores#writeTimeoutMillis}), counted from when the call starts
 * rather than from when it was queued behind the client's other calls. Futures must always
 * complete: the operator waits for them.
 */
public interface StoreClient<T> extends Serializable, AutoCloseable {
    /** Called once per parallel operator instance, before any upsert. */
    default void open(String store, String uri, Map<String, String> settings) throws Exception {}

    /** Inserts or replaces the record kept under {@code key}; completes when it is durable. */
    CompletableFuture<Void> upsert(String key, T record);

    /** The record kept under {@code key}, or null (for {@code lookup}). */
    default CompletableFuture<T> get(String key, Class<T> type) {
        CompletableFuture<T> failed = new CompletableFuture<>();
        failed.completeExceptionally(new UnsupportedOperationException(
                getClass().getName() + " does not answer lookups"));
        return failed;
    }

    /**
     * The record kept under {@code key}, for records that wait for it until
     * {@code deadlineNanos} (a {@code System.nanoTime()}; read again when the call is about to
     * start, as more records may have come to wait for it). A client that queues its calls
     * should not send a read whose deadline has passed when its turn comes: nobody would see
     * the answer, and the store is evidently behind; it fails the future with
     * {@code STORE_UNAVAILABLE} instead. The default ignores the deadline.
     */
    default CompletableFuture<T> get(String key, Class<T> type, LongSupplier deadlineNanos) {
        return get(key, type);
    }

    /**
     * A deadline that does not pass (for a century): half the range of {@code nanoTime}, so
     * that {@code now - deadline} cannot overflow.
     */
    LongSupplier NO_DEADLINE = () -> System.nanoTime() + Long.MAX_VALUE / 2;

    /** Calls waiting for one of the client's threads now (metric {@code queued_calls}). */
    default int queuedCalls() {
        return 0;
    }

    /** Reads the client did not send because nobody waited for them any more (metric {@code reads_skipped}). */
    default long skippedReads() {
        return 0;
    }

    /** Calls the client refused at once because its queue was full (metric {@code calls_refused}). */
    default long refusedCalls() {
        return 0;
    }

    /**
     * True when {@link #get} answers from this JVM's memory without waiting (its future is
     * complete when returned): lookups then ask on the operator's own thread, without async I/O.
     */
    default boolean answersInProcess() {
        return false;
    }

    @Override
    default void close() throws Exception {}
}
