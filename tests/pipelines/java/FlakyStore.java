import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import nexflow.runtime.Json;
import nexflow.runtime.MemoryStore;
import nexflow.runtime.StoreClient;
import nexflow.runtime.StoreException;

/**
 * A remote-like store for the lookup fallback tests ({@code --store.<name>=class:FlakyStore}):
 * every answer comes 300 ms after the call, on another thread; a key starting with "down" fails
 * with STORE_UNAVAILABLE (reads and writes), a key starting with "bad" is found as a document
 * without its customer_id (not a Profile: BAD_STORE_DOCUMENT), a key starting with "slow" is
 * answered by one thread, 400 ms each, one after the other (a store whose reads queue), a key
 * starting with "behind" likewise on a thread of its own, but a read whose deadline (the latest
 * of the records waiting for it) has passed when its turn comes is not sent (counted as
 * {@code <label>:skipped}; sent ones as {@code <label>:sent}), as MongoStore does; any
 * other key is found as {@code {"card_id": key, "customer_id": "cust_" + key}}. Calls are counted per {@code label} setting and key, in the memory store
 * {@code flaky_calls} (read back with {@code --print-store=flaky_calls}).
 */
public final class FlakyStore<T> implements StoreClient<T> {
    private static final long serialVersionUID = 1L;
    private static final ScheduledExecutorService LATER = Executors.newScheduledThreadPool(2, r -> {
        Thread t = new Thread(r, "flaky-store");
        t.setDaemon(true);
        return t;
    });
    private static final Map<String, AtomicInteger> CALLS = new ConcurrentHashMap<>();
    private static final java.util.concurrent.ExecutorService QUEUED = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "flaky-store-queue");
        t.setDaemon(true);
        return t;
    });

    private static final java.util.concurrent.ExecutorService BEHIND = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "flaky-store-behind");
        t.setDaemon(true);
        return t;
    });

    private transient String label;

    @Override
    public void open(String store, String uri, Map<String, String> settings) {
        label = settings.getOrDefault("label", store);
    }

    @Override
    public CompletableFuture<Void> upsert(String key, T record) {
        int n = CALLS.computeIfAbsent("upsert:" + key, k -> new AtomicInteger()).incrementAndGet();
        MemoryStore.put("flaky_calls", "upsert:" + key, String.valueOf(n));
        if (key.startsWith("down")) {
            return CompletableFuture.failedFuture(new StoreException("kept", StoreException.UNAVAILABLE,
                    "no answer (FlakyStore)", null));
        }
        return CompletableFuture.completedFuture(null);
    }

    // Not @Override: compiles against a runtime whose StoreClient has no deadline, whose lookups
    // then ask through get(key, type) (the store sees every read).
    public CompletableFuture<T> get(String key, Class<T> type, java.util.function.LongSupplier deadlineNanos) {
        return key.startsWith("behind") ? behind(key, type, deadlineNanos) : get(key, type);
    }

    private CompletableFuture<T> behind(String key, Class<T> type, java.util.function.LongSupplier deadlineNanos) {
        CompletableFuture<T> answer = new CompletableFuture<>();
        BEHIND.execute(() -> {
            if (deadlineNanos != null && System.nanoTime() - deadlineNanos.getAsLong() >= 0) {
                count(label + ":skipped");
                answer.completeExceptionally(new StoreException("profiles", StoreException.UNAVAILABLE,
                        "read not sent (FlakyStore)", null));
                return;
            }
            count(label + ":sent");
            try {
                Thread.sleep(400);
                answer.complete(Json.mapper().readValue(
                        "{\"card_id\":\"" + key + "\",\"customer_id\":\"cust_" + key + "\"}", type));
            } catch (Exception e) {
                answer.completeExceptionally(e);
            }
        });
        return answer;
    }

    private static void count(String counted) {
        int n = CALLS.computeIfAbsent(counted, k -> new AtomicInteger()).incrementAndGet();
        MemoryStore.put("flaky_calls", counted, String.valueOf(n));
    }

    @Override
    public CompletableFuture<T> get(String key, Class<T> type) {
        if (key.startsWith("behind")) {
            return behind(key, type, null);
        }
        String counted = label + ":" + key;
        int n = CALLS.computeIfAbsent(counted, k -> new AtomicInteger()).incrementAndGet();
        MemoryStore.put("flaky_calls", counted, String.valueOf(n));
        CompletableFuture<T> answer = new CompletableFuture<>();
        if (key.startsWith("slow")) {
            QUEUED.execute(() -> {
                try {
                    Thread.sleep(400);
                    answer.complete(Json.mapper().readValue(
                            "{\"card_id\":\"" + key + "\",\"customer_id\":\"cust_" + key + "\"}", type));
                } catch (Exception e) {
                    answer.completeExceptionally(e);
                }
            });
            return answer;
        }
        if (key.startsWith("bad")) {
            LATER.schedule(() -> {
                try {
                    answer.complete(Json.mapper().readValue("{\"card_id\":\"" + key + "\"}", type));
                } catch (java.io.IOException e) {
                    answer.completeExceptionally(e);
                }
            }, 300, TimeUnit.MILLISECONDS);
            return answer;
        }
        LATER.schedule(() -> {
            if (key.startsWith("down")) {
                answer.completeExceptionally(new StoreException("profiles", StoreException.UNAVAILABLE,
                        "no answer (FlakyStore)", null));
                return;
            }
            try {
                answer.complete(Json.mapper().readValue(
                        "{\"card_id\":\"" + key + "\",\"customer_id\":\"cust_" + key + "\"}", type));
            } catch (java.io.IOException e) {
                answer.completeExceptionally(e);
            }
        }, 300, TimeUnit.MILLISECONDS);
        return answer;
    }
}
