package nexflow.runtime;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Test harness for what the L0 runtime's lookups and persist do around the store: the bounded
 * cache (least recently used answers make room), misses for one key sharing one call, writes of
 * one key kept in order, the store settings' checks, and MongoDB calls to a server that accepts
 * connections and never answers, each bounded from when it starts. Prints one JSON object.
 */
public final class LookupHarness {
    public static void main(String[] args) throws Exception {
        ObjectNode out = Json.mapper().createObjectNode();

        // A record's result is completed once: the deadline that passes as the answer comes, or
        // a failure after an answer, is dropped (Flink's ResultFuture must not be completed twice).
        List<String> completed = new ArrayList<>();
        @SuppressWarnings("unchecked")
        org.apache.flink.streaming.api.functions.async.ResultFuture<String> future =
                (org.apache.flink.streaming.api.functions.async.ResultFuture<String>) java.lang.reflect.Proxy.newProxyInstance(
                        LookupHarness.class.getClassLoader(),
                        new Class<?>[] {org.apache.flink.streaming.api.functions.async.ResultFuture.class},
                        (proxy, method, arguments) -> {
                            completed.add(method.getName() + (arguments == null ? "" : " " + arguments[0]));
                            return null;
                        });
        Lookups.Once<String> once = new Lookups.Once<>(future);
        once.complete(java.util.Collections.singleton("answer"));
        once.completeExceptionally(new java.util.concurrent.TimeoutException("too late"));
        once.complete(java.util.Collections.singleton("again"));
        ArrayNode completions = out.putArray("once");
        completed.forEach(completions::add);

        // The cache: capacity 3; "a" is read after "b" and "c" were put, so "b" is the least
        // recently used when "d" comes.
        Lookups.Cache<String> cache = new Lookups.Cache<>(3, 60_000L);
        cache.put("a", "A", 0L);
        cache.put("b", "B", 0L);
        cache.put("c", "C", 0L);
        cache.get("a", 1L);
        cache.put("d", "D", 1L);
        ObjectNode lru = out.putObject("cache");
        for (String k : new String[] {"a", "b", "c", "d"}) {
            Lookups.Cached<String> hit = cache.get(k, 2L);
            lru.put(k, hit == null ? null : hit.value);
        }
        // A bad document's verdict (BAD_STORE_DOCUMENT) is kept like an answer, for as long.
        Lookups.Cache<String> verdicts = new Lookups.Cache<>(3, 60_000L);
        verdicts.putBad("bad", 2L);
        Lookups.Cached<String> bad = verdicts.get("bad", 3L);
        lru.put("bad_is_bad", bad != null && bad.bad && bad.value == null);
        lru.put("bad_expires", verdicts.get("bad", 60_002L) == null);
        lru.put("size", cache.size());
        lru.put("evicted", cache.evicted());
        lru.put("expired", cache.get("a", 60_000L) == null);
        // 1000 more keys: the cache stays at its capacity.
        for (int i = 0; i < 1000; i++) {
            cache.put("k" + i, "v", 3L);
        }
        lru.put("size_after_1000", cache.size());

        // Misses for one key while its call runs share that call.
        Lookups.InFlight<String> inFlight = new Lookups.InFlight<>();
        List<CompletableFuture<String>> started = new ArrayList<>();
        AtomicInteger calls = new AtomicInteger();
        java.util.function.Function<String, CompletableFuture<String>> start = k -> {
            calls.incrementAndGet();
            CompletableFuture<String> f = new CompletableFuture<>();
            started.add(f);
            return f;
        };
        CompletableFuture<String> first = inFlight.call("card-1", start);
        CompletableFuture<String> second = inFlight.call("card-1", start);
        CompletableFuture<String> other = inFlight.call("card-2", start);
        ObjectNode coalesce = out.putObject("coalesce");
        coalesce.put("same_future", first == second);
        coalesce.put("other_key_own_call", other != first);
        coalesce.put("calls_while_running", calls.get());
        coalesce.put("running", inFlight.running());
        started.get(0).complete("profile");
        coalesce.put("second_answer", second.get());
        coalesce.put("running_after", inFlight.running());
        inFlight.call("card-1", start);
        coalesce.put("calls_after_completion", calls.get());
        coalesce.put("coalesced", inFlight.coalesced());
        // A failed call is shared too, and not kept: the next miss asks again.
        CompletableFuture<String> failing = started.get(2);
        CompletableFuture<String> joined = inFlight.call("card-1", start);
        failing.completeExceptionally(new IllegalStateException("down"));
        coalesce.put("shared_failure", joined.isCompletedExceptionally());
        inFlight.call("card-1", start);
        coalesce.put("calls_after_failure", calls.get());

        // Writes of one key in order: the second starts only when the first completed.
        Stores.KeyOrder order = new Stores.KeyOrder();
        List<String> log = new ArrayList<>();
        CompletableFuture<Void> v1 = new CompletableFuture<>();
        CompletableFuture<Void> v2 = new CompletableFuture<>();
        CompletableFuture<Void> w1 = order.after("doc-1", () -> {
            log.add("start v1");
            return v1;
        });
        CompletableFuture<Void> w2 = order.after("doc-1", () -> {
            log.add("start v2");
            return v2;
        });
        CompletableFuture<Void> w3 = order.after("doc-2", () -> {
            log.add("start other");
            return CompletableFuture.completedFuture(null);
        });
        log.add("keys " + order.keys());
        v1.completeExceptionally(new IllegalStateException("v1 refused"));
        log.add("v1 failed");
        v2.complete(null);
        log.add("v2 done " + w2.isDone() + " " + w1.isCompletedExceptionally() + " " + w3.isDone());
        log.add("keys " + order.keys());
        ArrayNode writes = out.putArray("order");
        log.forEach(writes::add);

        // Settings every store has.
        ObjectNode settings = out.putObject("settings");
        settings.put("millis.500 ms", Stores.millis("500 ms"));
        settings.put("millis.250", Stores.millis("250"));
        settings.put("millis.bad", Stores.millis("2 seconds"));
        settings.put("read.default", Stores.readTimeoutMillis(Map.of()));
        settings.put("write.default", Stores.writeTimeoutMillis(Map.of()));
        settings.put("cache.default", Lookups.cacheEntries(Map.of()));
        settings.put("problems", Stores.problems(Map.of("read_timeout", "0 ms", "cache_entries", "-1")));
        settings.put("fine", Stores.problems(Map.of("read_timeout", "300 ms", "write_timeout", "5000",
                "cache_entries", "10")));

        // A server that accepts connections and never answers: three reads on one store thread,
        // each bounded by read_timeout from when it starts (the third starts when the first two
        // have run out of time), each STORE_UNAVAILABLE.
        try (ServerSocket silent = new ServerSocket(0)) {
            List<Socket> accepted = new ArrayList<>();
            Thread acceptor = new Thread(() -> {
                try {
                    while (true) {
                        accepted.add(silent.accept());
                    }
                } catch (java.io.IOException e) {
                    // closed
                }
            });
            acceptor.setDaemon(true);
            acceptor.start();
            MongoStore<Object> store = new MongoStore<>();
            Map<String, String> mongo = new TreeMap<>();
            mongo.put("uri", "mongodb://127.0.0.1:" + silent.getLocalPort() + "/?directConnection=true");
            mongo.put("database", "d");
            mongo.put("collection", "c");
            mongo.put("threads", "1");
            mongo.put("read_timeout", "400 ms");
            store.open("slow", "mongodb:slow", mongo);
            long begin = System.nanoTime();
            List<CompletableFuture<Object>> reads = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                reads.add(store.get("k" + i, Object.class));
            }
            ArrayNode ended = out.putArray("slow_reads");
            for (CompletableFuture<Object> read : reads) {
                ObjectNode r = ended.addObject();
                try {
                    read.get();
                    r.put("reason", "answered?!");
                } catch (ExecutionException e) {
                    r.put("reason", Stores.classified("slow", e.getCause()).reason());
                }
                r.put("ms", (System.nanoTime() - begin) / 1_000_000L);
            }
            store.close();
        }
        System.out.println(Json.toJson(out));
    }
}
