package nexflow.runtime;

import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * A store kept in the memory of the JVM ({@code --store.<name>=memory:<name>}): for tests and
 * local runs on a MiniCluster. Records are kept as JSON text, by key; {@link #contents} reads
 * them back. With the setting {@code file} ({@code --store.<name>.file=<path>}, or
 * {@code file: "..."} in an infra store of type memory) the store starts with the records of that
 * file: one JSON object, key to record (read once per JVM). With {@code unavailable=true}, every
 * read fails with {@code STORE_UNAVAILABLE}; with {@code synchronous_writes=true} a write completes
 * before {@code upsert} returns.
 */
public final class MemoryStore<T> implements StoreClient<T> {
    private static final long serialVersionUID = 1L;
    private static final Map<String, Map<String, String>> STORES = new ConcurrentHashMap<>();

    private transient Map<String, String> records;
    private transient String store;
    // `unavailable` (a test's `store <name> unavailable`): every read fails as a store that is
    // down does, so a test reaches the proc's `on lookup_error`.
    private transient boolean unavailable;
    // `synchronous_writes` (set by `nexflow test`): a write completes on the caller's thread, so
    // a persisted record is handed on before the next input (a checkpoint barrier included) and
    // a test's checkpoint finds no write still in flight.
    private transient boolean synchronousWrites;
    // One writer per client, shut down in close(): a thread kept for the JVM would hold the job's
    // class loader (its context class loader) after the job ends, and each run would leak it.
    private transient ExecutorService writer;

    @Override
    public void open(String store, String uri, Map<String, String> settings) {
        String file = settings == null ? null : settings.get("file");
        this.store = store;
        this.unavailable = settings != null && "true".equals(settings.get("unavailable"));
        this.synchronousWrites = settings != null && "true".equals(settings.get("synchronous_writes"));
        records = STORES.computeIfAbsent(uri.substring("memory:".length()), k -> load(file));
        writer = Executors.newSingleThreadExecutor(runnable -> {
            Thread thread = new Thread(runnable, "nexflow-memory-store-writer-" + store);
            thread.setDaemon(true);
            return thread;
        });
    }

    /** Finishes the writes already asked for, then stops the writer thread. */
    @Override
    public void close() throws Exception {
        if (writer != null) {
            writer.shutdown();
            writer.awaitTermination(5, java.util.concurrent.TimeUnit.SECONDS);
        }
    }

    private static Map<String, String> load(String file) {
        Map<String, String> loaded = new ConcurrentHashMap<>();
        if (file == null) {
            return loaded;
        }
        try {
            Json.mapper().readTree(new java.io.File(file)).fields()
                    .forEachRemaining(e -> loaded.put(e.getKey(), e.getValue().toString()));
        } catch (java.io.IOException e) {
            throw new IllegalStateException("memory store file " + file + " is not one JSON object", e);
        }
        return loaded;
    }

    @Override
    public CompletableFuture<Void> upsert(String key, T record) {
        // Written from another thread, as a remote store would complete. One thread per client:
        // the common pool would start a thread per write on a 2-core machine.
        String json = Json.toJson(record);
        if (synchronousWrites) {
            records.put(key, json);
            return CompletableFuture.completedFuture(null);
        }
        return CompletableFuture.runAsync(() -> records.put(key, json), writer);
    }

    /** Answered on the caller's thread: the records are in this JVM. */
    @Override
    public CompletableFuture<T> get(String key, Class<T> type) {
        if (unavailable) {
            return CompletableFuture.failedFuture(new StoreException(
                    store, StoreException.UNAVAILABLE, "memory store " + store + " is set unavailable", null));
        }
        String json = records.get(key);
        try {
            return CompletableFuture.completedFuture(json == null ? null : Json.mapper().readValue(json, type));
        } catch (java.io.IOException e) {
            return CompletableFuture.failedFuture(
                    new IllegalStateException("store record " + key + " is not valid JSON", e));
        }
    }

    @Override
    public boolean answersInProcess() {
        return true;
    }

    /** Puts a record (as JSON) into the store named {@code name}: how tests fill a store. */
    public static void put(String name, String key, String json) {
        STORES.computeIfAbsent(name, k -> new ConcurrentHashMap<>()).put(key, json);
    }

    /** A copy of the records of the store named {@code name}, by key. */
    public static Map<String, String> contents(String name) {
        return new TreeMap<>(STORES.getOrDefault(name, new TreeMap<>()));
    }
}
