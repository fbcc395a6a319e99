package nexflow.runtime;

import java.util.Collections;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.java.typeutils.EitherTypeInfo;
import org.apache.flink.api.java.functions.KeySelector;
import org.apache.flink.streaming.api.datastream.AsyncDataStream;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.datastream.SingleOutputStreamOperator;
import org.apache.flink.streaming.api.functions.async.ResultFuture;
import org.apache.flink.streaming.api.functions.ProcessFunction;
import org.apache.flink.streaming.api.functions.async.RichAsyncFunction;
import org.apache.flink.types.Either;
import org.apache.flink.util.Collector;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.MetricGroup;

/**
 * Persistence of emitted records ({@code emit to ... persist to <store> [async]}) through Flink's
 * async I/O: each record is upserted into its store and passed on when the write completed, so a
 * record is visible on its stream only once it is in the store. {@code async} writes up to
 * {@link #CAPACITY} records at a time ({@code AsyncDataStream.unorderedWait}); without it one
 * record at a time, in order. Either way the operator thread never waits for the store: the
 * client's own threads do.
 *
 * <p>Writes to one key stay in order, {@code async} or not ({@link KeyOrder}): a write starts only
 * when the write before it of the same key (in this parallel instance) has completed, so an older
 * version of a record never overwrites a newer one. Writes of different keys run side by side.
 * (Records of one key reach one parallel instance when the stream is keyed by it or the source
 * is partitioned by it; see docs/language/proc.md.)
 *
 * <p>The writes waiting for the store's threads are bounded by the async capacity: a record holds
 * its slot until its write (retries included) is over, so at most {@link #CAPACITY} writes of
 * one instance wait (metric {@code queued_calls}), and a slow store slows the job down
 * (backpressure) instead of queueing more. Writes are never skipped; one the client's queue
 * refuses ({@link StoreExecutor}; not expected with one client per operator instance) fails
 * with {@code STORE_UNAVAILABLE} and is tried again like any other.
 *
 * <p>Each call is bounded by the store's {@code write_timeout} (default
 * {@value #DEFAULT_WRITE_TIMEOUT_MILLIS} ms; lookups: {@code read_timeout}, default
 * {@value #DEFAULT_READ_TIMEOUT_MILLIS} ms), counted by the client from when the call starts,
 * not from when it was queued behind the store's other calls.
 *
 * <p>Failures are classified ({@link StoreException}), logged and counted (metrics
 * {@code nexflow.operator.persist.<store>.error_class.<class>.reason.<reason>.errors}). A record
 * the store refuses ({@code STORE_REJECTED}) goes to the dead-letter output and the job goes on.
 * A write that failed otherwise ({@code STORE_UNAVAILABLE}: not acknowledged within
 * {@code write_timeout}, connection lost; {@code STORE_FAILED}) is tried again, at most
 * {@value #WRITE_RETRIES} more times, {@value #RETRY_BACKOFF_MILLIS} ms after the first failure
 * and twice as long after each next one (the writes after it of the same key wait: order is
 * kept). When the last try fails too, the proc's {@code on persist_error} decides
 * ({@link OnPersistError}): {@code dead_letter} (the default) makes the record a dead letter,
 * recoverable and masked, and the job goes on (metric {@code persist_errors} per reason, a
 * {@code persist_error} log line at most every second); {@code fail} fails the job, which
 * restarts from its last checkpoint and writes again (an upsert by key, so writing twice is
 * harmless). A store the job cannot even log in to ({@code STORE_CONFIG}) is fatal either way.
 *
 * <p>A store is bound with {@code --store.<name>=<uri>}: {@code mongodb:<name>} is a MongoDB
 * collection ({@link MongoStore}, settings {@code store.<name>.uri|database|collection|...}),
 * {@code memory:<name>} keeps records in the JVM ({@link MemoryStore}, for tests),
 * {@code class:<class name>} loads a {@link StoreClient} implementation from the job's classpath.
 * Settings every store has: {@code read_timeout}, {@code write_timeout} (milliseconds, as
 * {@code 500 ms} or {@code 500}) and {@code cache_entries} (see {@link Lookups}).
 */
public final class Stores {
    /** How long one lookup may take, from when it starts (setting {@code read_timeout}). */
    public static final long DEFAULT_READ_TIMEOUT_MILLIS = 1_000L;
    /** How long one write may take, from when it starts (setting {@code write_timeout}). */
    public static final long DEFAULT_WRITE_TIMEOUT_MILLIS = 30_000L;
    public static final int CAPACITY = 100;
    /** How many more times a failed write is tried before {@code on persist_error} decides. */
    public static final int WRITE_RETRIES = 2;
    /** The wait before the first retry of a write; doubled before each next one. */
    public static final long RETRY_BACKOFF_MILLIS = 200L;
    /**
     * Async I/O without its own timeout: Flink would register (and cancel) a processing-time
     * timer for every record, cache hits included, which cost a third of a lookup-heavy job's
     * throughput. A lookup bounds each record that reads the store by its own deadline instead,
     * from when it arrived ({@link Lookups}); a persist bounds each try of a write by the client's
     * {@code write_timeout}, and its tries by {@link #WRITE_RETRIES}.
     */
    static final long NO_OPERATOR_TIMEOUT = 0L;

    private Stores() {}

    /** What a persist does with a record whose write still fails after its retries. */
    public enum OnPersistError {
        /** The record goes to the dead-letter output, classified (recoverable), masked. */
        DEAD_LETTER,
        /** The job fails and restarts from its last checkpoint. */
        FAIL
    }

    /**
     * Upserts every record of {@code records} into {@code store} (keyed by {@code key}) and
     * passes on those that were written; refused ones go to {@link DeadLetterOutput#TAG} as
     * envelopes naming {@code stream}, the stream the event came from.
     */
    public static <T> SingleOutputStreamOperator<T> upsert(
            DataStream<T> records,
            StreamBindings bindings,
            String stream,
            String store,
            KeySelector<T, String> key,
            RecordContract<T> contract,
            boolean async,
            OnPersistError onError,
            TypeInformation<T> type,
            String uid) {
        String uri = bindings.storeUri(store);
        Map<String, String> settings = bindings.storeSettings(store);
        check(store, uri, settings);
        Upsert<T> write = new Upsert<>(stream, store, uri, settings, key, contract, onError);
        TypeInformation<Either<T, String>> written = new EitherTypeInfo<>(type, Types.STRING);
        SingleOutputStreamOperator<Either<T, String>> out = async
                ? AsyncDataStream.unorderedWait(records, write, NO_OPERATOR_TIMEOUT, TimeUnit.MILLISECONDS, CAPACITY)
                : AsyncDataStream.orderedWait(records, write, NO_OPERATOR_TIMEOUT, TimeUnit.MILLISECONDS, 1);
        return out.returns(written).name("persist: " + store).uid(uid)
                .process(new Written<T>(store))
                .returns(type)
                .name("persisted: " + store)
                .uid(uid + ".written");
    }

    /**
     * Fails before the job starts (rather than in every task) when no client can serve
     * {@code uri} or its settings are incomplete. Secrets are not resolved here: they are read
     * where the store is opened.
     */
    public static void check(String store, String uri, Map<String, String> settings) {
        String common = problems(settings);
        if (common != null) {
            throw new IllegalStateException("store '" + store + "' is bound to '" + uri + "': " + common);
        }
        if (uri.startsWith(MongoStore.PREFIX)) {
            String problems = MongoStore.problems(store, settings);
            if (problems != null) {
                throw new IllegalStateException("store '" + store + "' is bound to '" + uri + "': " + problems);
            }
            return;
        }
        if (!uri.startsWith("memory:") && !uri.startsWith("class:")) {
            throw new IllegalStateException("store '" + store + "' is bound to '" + uri
                    + "': this build has no client for it; bind it with --store." + store + "=mongodb:" + store
                    + " (and its uri, database, collection), --store." + store + "=memory:" + store
                    + " or --store." + store + "=class:<a StoreClient implementation>");
        }
    }

    /** The client a store binding names. */
    @SuppressWarnings("unchecked")
    public static <T> StoreClient<T> client(String store, String uri) throws Exception {
        if (uri.startsWith(MongoStore.PREFIX)) {
            return new MongoStore<>();
        }
        if (uri.startsWith("memory:")) {
            return new MemoryStore<>();
        }
        if (uri.startsWith("class:")) {
            return (StoreClient<T>) Class.forName(uri.substring("class:".length()))
                    .getDeclaredConstructor()
                    .newInstance();
        }
        throw new IllegalStateException("store '" + store + "' is bound to '" + uri
                + "': this build has no client for it; bind it to mongodb:" + store + ", memory:" + store
                + " or class:<a StoreClient implementation>");
    }

    /**
     * Has Flink release, with the job's class loader on this TaskManager, what a store client's
     * library keeps for the whole JVM once loaded (the MongoDB driver's pruner thread, {@link
     * MongoStore#stopBufferPruner}); otherwise every run of the job would leave its classes loaded.
     */
    public static void releaseWithJob(StoreClient<?> client, org.apache.flink.api.common.functions.RuntimeContext context) {
        if (client instanceof MongoStore) {
            context.registerUserCodeClassLoaderReleaseHookIfAbsent(
                    "nexflow.mongodb.buffer-pool-pruner", MongoStore::stopBufferPruner);
        }
    }

    /**
     * What is wrong with the settings every store has ({@code read_timeout},
     * {@code write_timeout}, {@code cache_entries}), as one message; null when nothing is.
     */
    public static String problems(Map<String, String> settings) {
        java.util.List<String> problems = new java.util.ArrayList<>();
        for (String name : new String[] {"read_timeout", "write_timeout"}) {
            String value = settings.get(name);
            if (value != null && millis(value) <= 0) {
                problems.add(name + " is '" + value + "'; expected milliseconds above 0, as 500 ms");
            }
        }
        String entries = settings.get("cache_entries");
        if (entries != null && !entries.trim().matches("[1-9][0-9]{0,8}")) {
            problems.add("cache_entries is '" + entries + "'; expected a whole number from 1 to 999999999");
        }
        return problems.isEmpty() ? null : String.join("; ", problems);
    }

    /** {@code 500 ms}, {@code 500} (milliseconds); -1 when the text is neither. */
    static long millis(String value) {
        String text = value.trim();
        if (text.endsWith("ms")) {
            text = text.substring(0, text.length() - 2).trim();
        }
        return text.matches("[0-9]{1,12}") ? Long.parseLong(text) : -1L;
    }

    /** The store's bound on one lookup (setting {@code read_timeout}). */
    public static long readTimeoutMillis(Map<String, String> settings) {
        String value = settings.get("read_timeout");
        return value == null ? DEFAULT_READ_TIMEOUT_MILLIS : millis(value);
    }

    /** The store's bound on one write (setting {@code write_timeout}). */
    public static long writeTimeoutMillis(Map<String, String> settings) {
        String value = settings.get("write_timeout");
        return value == null ? DEFAULT_WRITE_TIMEOUT_MILLIS : millis(value);
    }

    /**
     * Writes kept in order per key: a write starts when the write before it of the same key has
     * completed (either way). Writes are submitted on the operator's thread; they complete on
     * the client's.
     */
    static final class KeyOrder {
        private final Map<String, CompletableFuture<?>> last = new java.util.concurrent.ConcurrentHashMap<>();

        /** {@code write}, started now or when the write before it of {@code key} completed. */
        <V> CompletableFuture<V> after(String key, java.util.function.Supplier<CompletableFuture<V>> write) {
            CompletableFuture<?> before = last.get(key);
            CompletableFuture<V> mine = before == null
                    ? start(write)
                    : before.handle((ignored, error) -> null).thenCompose(ignored -> start(write));
            last.put(key, mine);
            mine.whenComplete((ignored, error) -> last.remove(key, mine));
            return mine;
        }

        private static <V> CompletableFuture<V> start(java.util.function.Supplier<CompletableFuture<V>> write) {
            try {
                return write.get();
            } catch (RuntimeException e) {
                return CompletableFuture.failedFuture(e);
            }
        }

        /** How many keys have a write running or waiting. */
        int keys() {
            return last.size();
        }
    }

    /** The classified form of a client's failure (futures wrap them in CompletionException). */
    public static StoreException classified(String store, Throwable error) {
        return classified(store, error, -1L);
    }

    /** As {@link #classified(String, Throwable)}; {@code timeoutMillis} names the bound that passed. */
    static StoreException classified(String store, Throwable error, long timeoutMillis) {
        Throwable cause = error;
        while (cause instanceof java.util.concurrent.CompletionException && cause.getCause() != null) {
            cause = cause.getCause();
        }
        if (cause instanceof StoreException) {
            return (StoreException) cause;
        }
        if (cause instanceof TimeoutException) {
            // orTimeout's TimeoutException carries no message.
            String message = cause.getMessage() != null ? Errors.message(cause)
                    : timeoutMillis > 0 ? "no answer within " + timeoutMillis + " ms" : "no answer in time";
            return new StoreException(store, StoreException.UNAVAILABLE, message, cause);
        }
        return MongoStore.classify(store, cause);
    }

    /**
     * Counters of fatal store errors, registered up front: they are counted on the client's
     * threads, so they are atomic (Flink's own counters are not thread-safe).
     */
    static final class FatalErrors {
        private final Map<String, Counter> counters = new java.util.TreeMap<>();

        FatalErrors(MetricGroup group) {
            for (String reason : new String[] {StoreException.UNAVAILABLE, StoreException.CONFIG, StoreException.FAILED}) {
                counters.put(reason, group.addGroup("error_class", Errors.FATAL).addGroup("reason", reason)
                        .counter("errors", new AtomicCounter()));
            }
        }

        /** Logs and counts a fatal failure; returns it for the caller to fail with. */
        StoreException report(String operator, String key, StoreException error) {
            counters.getOrDefault(error.reason(), counters.get(StoreException.FAILED)).inc();
            Log.error("store_error", operator, key, error.reason() + ": " + Errors.message(error), error);
            return error;
        }
    }

    static final class AtomicCounter implements Counter {
        private final AtomicLong count = new AtomicLong();

        @Override
        public void inc() {
            count.incrementAndGet();
        }

        @Override
        public void inc(long n) {
            count.addAndGet(n);
        }

        @Override
        public void dec() {
            count.decrementAndGet();
        }

        @Override
        public void dec(long n) {
            count.addAndGet(-n);
        }

        @Override
        public long getCount() {
            return count.get();
        }
    }

    private static final class Upsert<T> extends RichAsyncFunction<T, Either<T, String>> {
        private static final long serialVersionUID = 1L;

        private final String stream;
        private final String store;
        private final String uri;
        private final Map<String, String> settings;
        private final KeySelector<T, String> key;
        private final RecordContract<T> contract;
        private final OnPersistError onError;
        private transient StoreClient<T> client;
        private transient OperatorMetrics metrics;
        private transient FatalErrors fatal;
        private transient KeyOrder order;
        private transient Map<String, Counter> fallbacks;
        private transient Counter retries;
        private transient AtomicLong lastLogged;
        private transient AtomicLong unlogged;
        private transient java.util.concurrent.ScheduledExecutorService timer;

        Upsert(String stream, String store, String uri, Map<String, String> settings, KeySelector<T, String> key,
                RecordContract<T> contract, OnPersistError onError) {
            this.stream = stream;
            this.store = store;
            this.uri = uri;
            this.settings = new java.util.TreeMap<>(settings);
            this.key = key;
            this.contract = contract;
            this.onError = onError;
        }

        private String operator() {
            return "persist." + store;
        }

        @Override
        public void open(OpenContext context) throws Exception {
            metrics = OperatorMetrics.register(getRuntimeContext(), operator());
            fatal = new FatalErrors(metrics.group());
            order = new KeyOrder();
            metrics.group().gauge("keys_writing", () -> order.keys());
            retries = metrics.group().counter("write_retries", new AtomicCounter());
            fallbacks = new java.util.TreeMap<>();
            for (String reason : new String[] {StoreException.UNAVAILABLE, StoreException.FAILED}) {
                fallbacks.put(reason, metrics.group().addGroup("reason", reason)
                        .counter("persist_errors", new AtomicCounter()));
            }
            lastLogged = new AtomicLong();
            unlogged = new AtomicLong();
            // One daemon thread per operator instance waits out the backoffs; the writes run on
            // the client's threads.
            timer = java.util.concurrent.Executors.newSingleThreadScheduledExecutor(r -> {
                Thread t = new Thread(r, "nexflow-persist-retry-" + store);
                t.setDaemon(true);
                return t;
            });
            try {
                client = client(store, uri);
                releaseWithJob(client, getRuntimeContext());
                client.open(store, uri, settings);
            } catch (Exception e) {
                throw fatal.report(operator(), null, classified(store, e));
            }
            StoreClient<T> writing = client;
            metrics.group().gauge("queued_calls", () -> writing.queuedCalls());
            metrics.group().gauge("calls_refused", () -> writing.refusedCalls());
        }

        @Override
        public void asyncInvoke(T record, ResultFuture<Either<T, String>> result) throws Exception {
            metrics.start();
            String k = key.getKey(record);
            // Logs and dead letters name the record by its correlation id (a sensitive key's
            // token) and carry it masked, never by the store key's clear value.
            String correlation = contract.correlationId(record);
            // After the write before it of the same key: a stale version never overwrites a newer.
            // The callback runs on the client's thread: it completes the result, logs, and
            // counts fatal errors on atomic counters only.
            order.after(k, () -> write(k, record, 0)).whenComplete((ignored, error) -> {
                // Whatever happens here, the result is completed (once): a record whose
                // result stays open would hold every checkpoint back.
                try {
                    if (error == null) {
                        result.complete(Collections.singleton(Either.Left(record)));
                        return;
                    }
                    StoreException failure = classified(store, error, Stores.writeTimeoutMillis(settings));
                    if (Errors.RECOVERABLE.equals(failure.classification())) {
                        Log.warn("dead_letter", operator(), correlation, failure.reason() + ": " + Errors.message(failure), null);
                        result.complete(Collections.singleton(Either.Right(
                                Errors.envelope(stream, operator(), failure, contract.maskedJson(record), correlation))));
                    } else if (onError == OnPersistError.DEAD_LETTER && !StoreException.CONFIG.equals(failure.reason())) {
                        fellBack(failure);
                        result.complete(Collections.singleton(Either.Right(Errors.envelope(stream, operator(),
                                new WriteFailed(failure, WRITE_RETRIES + 1), contract.maskedJson(record), correlation))));
                    } else {
                        result.completeExceptionally(fatal.report(operator(), correlation, failure));
                    }
                } catch (Throwable e) {
                    result.completeExceptionally(e);
                }
            });
        }

        /**
         * Try {@code attempt} (0: the first) of writing {@code record}: a failure other than a
         * refusal or a configuration error is tried again after a backoff, at most
         * {@link #WRITE_RETRIES} times.
         */
        private CompletableFuture<Void> write(String k, T record, int attempt) {
            CompletableFuture<Void> call;
            try {
                call = client.upsert(k, record);
            } catch (RuntimeException e) {
                call = CompletableFuture.failedFuture(e);
            }
            return call.handle((ok, error) -> error).thenCompose(error -> {
                if (error == null) {
                    return CompletableFuture.completedFuture((Void) null);
                }
                StoreException failure = classified(store, error);
                boolean retriable = !Errors.RECOVERABLE.equals(failure.classification())
                        && !StoreException.CONFIG.equals(failure.reason());
                if (!retriable || attempt >= WRITE_RETRIES) {
                    return CompletableFuture.failedFuture(error);
                }
                retries.inc();
                long backoff = RETRY_BACKOFF_MILLIS << attempt;
                CompletableFuture<Void> next = new CompletableFuture<>();
                timer.schedule(() -> {
                    write(k, record, attempt + 1).whenComplete((ok, e) -> {
                        if (e == null) {
                            next.complete(null);
                        } else {
                            next.completeExceptionally(e);
                        }
                    });
                }, backoff, TimeUnit.MILLISECONDS);
                return next;
            });
        }

        /** Counts and logs (at most a line a second, without the key or the record) a fallback. */
        private void fellBack(StoreException failure) {
            fallbacks.getOrDefault(failure.reason(), fallbacks.get(StoreException.FAILED)).inc();
            long now = System.currentTimeMillis();
            long last = lastLogged.get();
            if (now - last >= 1_000L && lastLogged.compareAndSet(last, now)) {
                long more = unlogged.getAndSet(0);
                Log.warn("persist_error", operator(), null, failure.reason() + ": " + Errors.message(failure)
                        + " after " + (WRITE_RETRIES + 1) + " tries; on persist_error dead_letter"
                        + (more > 0 ? "; " + more + " more since the last line" : ""), null);
            } else {
                unlogged.incrementAndGet();
            }
        }

        @Override
        public void close() throws Exception {
            if (timer != null) {
                timer.shutdownNow();
            }
            if (client != null) {
                client.close();
            }
        }
    }

    /** A write that failed after its retries and made its record a dead letter: replayable. */
    private static final class WriteFailed extends StoreException {
        private static final long serialVersionUID = 1L;

        WriteFailed(StoreException failure, int tries) {
            super(failure.store(), failure.reason(), "write failed after " + tries + " tries: " + failure.reason()
                    + " (" + Errors.message(failure) + ")", null);
        }

        @Override
        public String classification() {
            return Errors.RECOVERABLE;
        }
    }

    /** Passes written records on and sends refused ones to the dead-letter output. */
    private static final class Written<T> extends ProcessFunction<Either<T, String>, T> {
        private static final long serialVersionUID = 1L;

        private final String store;
        private transient OperatorMetrics metrics;

        Written(String store) {
            this.store = store;
        }

        @Override
        public void open(OpenContext context) {
            // The same operator name as the write: one metric group per store, whichever operator counts.
            metrics = OperatorMetrics.register(getRuntimeContext(), "persist." + store);
        }

        @Override
        public void processElement(Either<T, String> written, Context context, Collector<T> out) {
            long start = metrics.start();
            if (written.isLeft()) {
                out.collect(written.left());
                metrics.emitted(start);
            } else {
                // Refused, or failed after its retries (the envelope says which).
                metrics.error(Errors.RECOVERABLE, "PERSIST_FAILED");
                context.output(DeadLetterOutput.TAG, written.right());
            }
        }
    }
}
