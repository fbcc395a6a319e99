package nexflow.runtime;

import java.io.Serializable;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

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
     * True when {@link #get} answers from this JVM's memory without waiting (its future is
     * complete when returned): lookups then ask on the operator's own thread, without async I/O.
     */
    default boolean answersInProcess() {
        return false;
    }

    @Override
    default void close() throws Exception {}
}
