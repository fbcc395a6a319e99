package nexflow.runtime;

import java.io.Serializable;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.functions.RuntimeContext;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.java.functions.KeySelector;
import org.apache.flink.api.java.typeutils.EitherTypeInfo;
import org.apache.flink.metrics.Counter;
import org.apache.flink.streaming.api.datastream.AsyncDataStream;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.datastream.SingleOutputStreamOperator;
import org.apache.flink.streaming.api.functions.async.ResultFuture;
import org.apache.flink.streaming.api.functions.ProcessFunction;
import org.apache.flink.streaming.api.functions.async.RichAsyncFunction;
import org.apache.flink.types.Either;
import org.apache.flink.util.Collector;

/**
 * Enrichment ({@code lookup <store> by <key> as <name> [cache <duration>]}): each record goes on
 * with the store's record of its key, or null, in the order records came (so keyed steps after
 * it see them in order).
 *
 * <p>A remote store (MongoDB) is asked through Flink's async I/O
 * ({@code AsyncDataStream.orderedWait}), so the operator does not block while it waits. A record
 * waits for its answer at most the store's {@code read_timeout} (default
 * {@value Stores#DEFAULT_READ_TIMEOUT_MILLIS} ms), counted from when it reaches the lookup: time
 * its read waits behind the store's other reads (up to {@link Stores#CAPACITY} records are in
 * flight, on a few client threads) counts too. When the time is up, the record takes the
 * {@code on lookup_error} path, and the read, which may still run, only fills the cache. (Each
 * read is also bounded by the client, from when it starts.) The read carries the latest deadline
 * of the records waiting for it: a remote client does not send a read that every one of them has
 * given up on by the time one of its threads takes it (metric {@code reads_skipped}), and its
 * queue is bounded ({@link StoreExecutor#queueBound}; metric {@code queued_calls}): a read that
 * finds it full fails at once with {@code STORE_UNAVAILABLE}, and its record takes the
 * {@code on lookup_error} path (counted like any failure, and in {@code calls_refused}). So a
 * store that falls behind (a slow server, a failover, the empty cache after a restart) costs the
 * records that arrive while it is behind, and the reads that still matter are not stuck behind
 * stale ones. Cache hits complete at once, without a timer. Every record's result is completed
 * exactly once, whichever path it takes, a callback that throws included: a result left open
 * would stop the record and hold every checkpoint back. A store that answers from this JVM's
 * memory ({@link StoreClient#answersInProcess}: the {@code memory:} store) is asked on the
 * operator's own thread: async I/O would only add a queue, a timer and a thread hop per record.
 *
 * <p>A call that fails or gives no answer in time takes the proc's {@code on lookup_error}
 * ({@link OnLookupError}): the record goes on with a null answer ({@code continue}, the default),
 * becomes a dead letter ({@code dead_letter}) or fails the job ({@code fail}: it restarts from its
 * last checkpoint). Each fallback is counted (metric
 * {@code nexflow.operator.lookup.<store>.reason.<reason>.lookup_errors}) and logged (event
 * {@code lookup_error}, at most one line a second, without the key or the record). Failed calls
 * are not cached. A document that is not a record of the store's schema (a field of the wrong
 * type, a required field missing, a broken constraint: {@code BAD_STORE_DOCUMENT}) is bad data of
 * one key, not a failing store; the job goes on whatever {@code on lookup_error} says. With
 * {@code continue}, the record is decided without the document (as a key the store has no record
 * of), and the dead letters get one notice (the record, masked, reason
 * {@code BAD_STORE_DOCUMENT}; metric {@code bad_documents}) per read that found the bad document:
 * with {@code cache}, the verdict is cached like an answer, so a key's records are decided without
 * a read and without another notice until it expires. With {@code dead_letter} or {@code fail},
 * the record becomes a dead letter (recoverable, masked like every dead letter), and with
 * {@code cache} so do the key's next records until the verdict expires, without a read. A record
 * whose key cannot be computed from its data is a dead letter too.
 *
 * <p>Concurrent misses for one key share one call to the store (metric {@code coalesced}). With
 * {@code cache}, answers (null included) are kept per parallel instance for that long, at most
 * the store's {@code cache_entries} of them (default {@value #DEFAULT_CACHE_ENTRIES}); when full,
 * the least recently used answer makes room (metric {@code cache_evicted}).
 */
public final class Lookups {
    public static final int DEFAULT_CACHE_ENTRIES = 100_000;

    private Lookups() {}

    /** What a lookup does with a record when its store fails or gives no answer in time. */
    public enum OnLookupError {
        /** The record goes on with a null answer (as when the store has no record of the key). */
        CONTINUE,
        /** The record goes to the dead-letter output, classified (recoverable). */
        DEAD_LETTER,
        /** The job fails and restarts from its last checkpoint. */
        FAIL
    }

    /** Builds what goes on: the record and the store's answer. */
    public interface Combine<T, S, E> extends Serializable {
        E apply(T record, S found);
    }

    /** How a record shows in a dead letter: its input (masked), its correlation id. */
    public interface Describe<T> extends Serializable {
        String of(T record);
    }

    public static <T, S, E> SingleOutputStreamOperator<E> lookup(
            DataStream<T> records,
            StreamBindings bindings,
            String stream,
            String store,
            KeySelector<T, String> key,
            Class<S> type,
            RecordContract<S> contract,
            long cacheMillis,
            OnLookupError onError,
            Combine<T, S, E> combine,
            Describe<T> input,
            Describe<T> correlation,
            TypeInformation<E> out,
            String uid) {
        String uri = bindings.storeUri(store);
        Map<String, String> settings = bindings.storeSettings(store);
        Stores.check(store, uri, settings);
        Lookup<T, S, E> lookup = new Lookup<>(stream, store, uri, settings, key, type, contract, cacheMillis,
                onError, combine, input, correlation);
        if (answersInProcess(store, uri)) {
            return records.process(new InProcess<>(lookup)).returns(out).name("lookup: " + store).uid(uid);
        }
        // Async I/O has no side output: dead letters (a bad document or key, or on lookup_error
        // dead_letter) come out as Right and go to it after (chained: no copy, no network hop).
        return AsyncDataStream.orderedWait(records, new RemoteOrDeadLetter<>(lookup), Stores.NO_OPERATOR_TIMEOUT,
                        TimeUnit.MILLISECONDS, Stores.CAPACITY)
                .returns(new EitherTypeInfo<>(out, Types.STRING)).name("lookup: " + store).uid(uid)
                .process(new DeadLetters<E>(store)).returns(out).name("lookup dead letters: " + store)
                .uid(uid + ".dead_letters");
    }

    private static boolean answersInProcess(String store, String uri) {
        try {
            return Stores.client(store, uri).answersInProcess();
        } catch (Exception e) {
            throw new IllegalStateException("store '" + store + "': cannot create its client for " + uri, e);
        }
    }

    /** The number of answers a store's lookups keep (setting {@code cache_entries}). */
    public static int cacheEntries(Map<String, String> settings) {
        String value = settings.get("cache_entries");
        return value == null ? DEFAULT_CACHE_ENTRIES : Integer.parseInt(value.trim());
    }

    static final class Cached<S> {
        final S value;
        final long until;
        /** The store's document of the key breaks its schema (BAD_STORE_DOCUMENT); value is null. */
        final boolean bad;

        Cached(S value, long until) {
            this(value, until, false);
        }

        Cached(S value, long until, boolean bad) {
            this.value = value;
            this.until = until;
            this.bad = bad;
        }
    }

    /**
     * Answers kept for a while, at most {@code capacity} of them: when full, the least recently
     * used one makes room. Read on the operator's thread and written on the client's, so every
     * method holds the cache's lock (uncontended but for the moments a call completes).
     */
    static final class Cache<S> {
        private final long millis;
        private final AtomicLong evicted = new AtomicLong();
        private final LinkedHashMap<String, Cached<S>> entries;

        Cache(int capacity, long millis) {
            this.millis = millis;
            this.entries = new LinkedHashMap<>(16, 0.75f, true) {
                private static final long serialVersionUID = 1L;

                @Override
                protected boolean removeEldestEntry(Map.Entry<String, Cached<S>> eldest) {
                    if (size() > capacity) {
                        evicted.incrementAndGet();
                        return true;
                    }
                    return false;
                }
            };
        }

        /** The answer kept for {@code key} at {@code now}, or null (none, or too old). */
        synchronized Cached<S> get(String key, long now) {
            Cached<S> hit = entries.get(key);
            if (hit == null) {
                return null;
            }
            if (hit.until <= now) {
                entries.remove(key);
                return null;
            }
            return hit;
        }

        synchronized void put(String key, S value, long now) {
            entries.put(key, new Cached<>(value, now + millis));
        }

        /** Keeps the verdict that {@code key}'s document breaks its schema, as long as an answer. */
        synchronized void putBad(String key, long now) {
            entries.put(key, new Cached<>(null, now + millis, true));
        }

        synchronized int size() {
            return entries.size();
        }

        long evicted() {
            return evicted.get();
        }
    }

    /**
     * The calls to the store still running, by key: a miss for a key whose call is running waits
     * for that call instead of making another, and moves the call's deadline to its own when
     * that is later. Calls start on the operator's thread and end on the client's.
     */
    static final class InFlight<S> {
        private static final class Call<S> {
            final AtomicLong deadline;
            CompletableFuture<S> future;

            Call(long deadline) {
                this.deadline = new AtomicLong(deadline);
            }
        }

        private final Map<String, Call<S>> calls = new ConcurrentHashMap<>();
        private long coalesced;

        /** The running call for {@code key}, or a new one {@code start} makes (without a deadline). */
        CompletableFuture<S> call(String key, Function<String, CompletableFuture<S>> start) {
            return call(key, StoreClient.NO_DEADLINE.getAsLong(), (k, deadline) -> start.apply(k));
        }

        /**
         * The running call for {@code key}, or a new one {@code start} makes; either way a record
         * waits for it until {@code deadlineNanos}. {@code start} gets the latest deadline of the
         * call's waiters, which a client reads when the call is about to start: a read nobody
         * waits for any more is not sent. (A record that joins just as the client skips the read
         * gets the skip's failure: its {@code on lookup_error} path.)
         */
        CompletableFuture<S> call(String key, long deadlineNanos,
                java.util.function.BiFunction<String, java.util.function.LongSupplier, CompletableFuture<S>> start) {
            Call<S> running = calls.get(key);
            if (running != null) {
                coalesced++;
                running.deadline.accumulateAndGet(deadlineNanos, (a, b) -> b - a > 0 ? b : a);
                return running.future;
            }
            Call<S> call = new Call<>(deadlineNanos);
            try {
                call.future = start.apply(key, call.deadline::get);
            } catch (RuntimeException e) {
                call.future = CompletableFuture.failedFuture(e);
            }
            if (!call.future.isDone()) {
                calls.put(key, call);
                call.future.whenComplete((found, error) -> calls.remove(key, call));
            }
            return call.future;
        }

        /** How many misses waited for a call already running (read on the operator's thread). */
        long coalesced() {
            return coalesced;
        }

        int running() {
            return calls.size();
        }
    }

    /** What both ways of asking share: the client, the cache, the calls in flight, the metrics. */
    private static final class Lookup<T, S, E> implements Serializable {
        private static final long serialVersionUID = 1L;
        private static final long LOG_EVERY_MILLIS = 1_000L;

        private final String stream;
        private final String store;
        private final String uri;
        private final Map<String, String> settings;
        private final KeySelector<T, String> key;
        private final Class<S> type;
        private final RecordContract<S> contract;
        private final long cacheMillis;
        private final OnLookupError onError;
        private final Combine<T, S, E> combine;
        private final Describe<T> input;
        private final Describe<T> correlation;
        private transient StoreClient<S> client;
        private transient Cache<S> cache;
        private transient InFlight<S> inFlight;
        private transient OperatorMetrics metrics;
        private transient Counter cacheHits;
        private transient Stores.FatalErrors fatal;
        private transient Map<String, Counter> fallbacks;
        private transient AtomicLong lastLogged;
        private transient AtomicLong unlogged;
        private transient long readTimeoutMillis;
        private transient Counter badDocuments;
        // Keys whose read just found a bad document and whose notice no record has sent yet:
        // of the records that waited for that read, the first to take the key sends it.
        private transient Map<String, Boolean> noticeDue;

        Lookup(String stream, String store, String uri, Map<String, String> settings, KeySelector<T, String> key,
                Class<S> type, RecordContract<S> contract, long cacheMillis, OnLookupError onError,
                Combine<T, S, E> combine, Describe<T> input, Describe<T> correlation) {
            this.stream = stream;
            this.store = store;
            this.uri = uri;
            this.settings = new java.util.TreeMap<>(settings);
            this.key = key;
            this.type = type;
            this.contract = contract;
            this.cacheMillis = cacheMillis;
            this.onError = onError;
            this.combine = combine;
            this.input = input;
            this.correlation = correlation;
        }

        /**
         * The store key of {@code record}, or null when it cannot be computed from the record's
         * data (an impossible value in the key expression): then {@code dead} has its dead
         * letter, or, when a transform the key calls declares {@code on error skip},
         * {@code skipped} has run (the record is dropped and counted, as in every operator:
         * {@link Validation#deadLetter}). Anything else (a bug) is thrown.
         */
        String keyOf(T record, java.util.function.Consumer<String> dead, Runnable skipped) throws Exception {
            try {
                return key.getKey(record);
            } catch (RuntimeException e) {
                if (e instanceof OnError.Skip) {
                    metrics.error("skipped", Errors.reason(e));
                    Log.info("skipped", operator(), correlation.of(record), Errors.message(e), null);
                    skipped.run();
                    return null;
                }
                if (!Errors.RECOVERABLE.equals(Errors.classify(e))) {
                    throw e;
                }
                String id = correlation.of(record);
                Log.warn("dead_letter", operator(), id, Errors.reason(e) + ": " + Errors.message(e), null);
                dead.accept(Errors.envelope(stream, operator(), e, input.of(record), id));
                return null;
            }
        }

        /** {@code found}, unless it breaks its schema: then BAD_STORE_DOCUMENT (bad data of the
         * key, not a failing store), which is never cached. */
        S checked(S found) {
            if (found != null && contract != null) {
                List<Violation> violations = contract.violations(found);
                if (!violations.isEmpty()) {
                    // The field, not its value: a document may hold sensitive data.
                    throw new StoreException(store, StoreException.BAD_DOCUMENT, "the document of the key is not a valid "
                            + type.getSimpleName() + " (" + violations.get(0).field + ": " + violations.get(0).code + ")", null);
                }
            }
            return found;
        }

        /** Is {@code error} a document that is not the store's schema (a data error)? */
        boolean badDocument(Throwable error) {
            return StoreException.BAD_DOCUMENT.equals(classified(error).reason());
        }

        String operator() {
            return "lookup." + store;
        }

        void open(RuntimeContext context) throws Exception {
            metrics = OperatorMetrics.register(context, operator());
            cacheHits = metrics.group().counter("cache_hit");
            fatal = new Stores.FatalErrors(metrics.group());
            readTimeoutMillis = Stores.readTimeoutMillis(settings);
            fallbacks = new java.util.TreeMap<>();
            for (String reason : new String[] {
                    StoreException.UNAVAILABLE, StoreException.REJECTED, StoreException.CONFIG, StoreException.FAILED}) {
                fallbacks.put(reason, metrics.group().addGroup("reason", reason)
                        .counter("lookup_errors", new Stores.AtomicCounter()));
            }
            lastLogged = new AtomicLong();
            unlogged = new AtomicLong();
            badDocuments = metrics.group().counter("bad_documents", new Stores.AtomicCounter());
            noticeDue = new ConcurrentHashMap<>();
            try {
                client = Stores.client(store, uri);
                Stores.releaseWithJob(client, context);
                client.open(store, uri, settings);
            } catch (Exception e) {
                throw fatal.report(operator(), null, Stores.classified(store, e));
            }
            inFlight = new InFlight<>();
            metrics.group().gauge("coalesced", () -> inFlight.coalesced());
            StoreClient<S> asked = client;
            metrics.group().gauge("queued_calls", () -> asked.queuedCalls());
            metrics.group().gauge("reads_skipped", () -> asked.skippedReads());
            metrics.group().gauge("calls_refused", () -> asked.refusedCalls());
            if (cacheMillis > 0) {
                cache = new Cache<>(cacheEntries(settings), cacheMillis);
                metrics.group().gauge("cache_evicted", () -> cache.evicted());
            }
        }

        /** The cached answer for {@code k}, or null when there is none (or it is too old). */
        Cached<S> cached(String k) {
            if (cache == null) {
                return null;
            }
            Cached<S> hit = cache.get(k, System.currentTimeMillis());
            if (hit != null) {
                cacheHits.inc();
            }
            return hit;
        }

        /**
         * The store's answer for {@code k}, for a record that waits for it until
         * {@code deadlineNanos}: a call already running for it, or a new one.
         */
        CompletableFuture<S> ask(String k, long deadlineNanos) {
            return inFlight.call(k, deadlineNanos, this::get);
        }

        /**
         * The answer of an in-process store for {@code k}, checked and cached. Asked on the
         * operator's thread, the call is over before the next record is looked up: there is never
         * a call in flight to share, so no futures are chained (they cost more than the answer).
         */
        S askInProcess(String k) {
            S found = checked(client.get(k, type).join());
            if (cache != null) {
                cache.put(k, found, System.currentTimeMillis());
            }
            return found;
        }

        private CompletableFuture<S> get(String k, java.util.function.LongSupplier deadlineNanos) {
            // A document the client could not even read as the schema (a field of the wrong
            // type) is a bad document like one that breaks a constraint: noted and cached
            // before the call completes, as below.
            return client.get(k, type, deadlineNanos).exceptionally(error -> {
                if (badDocument(error)) {
                    noticeDue.put(k, Boolean.TRUE);
                    if (cache != null) {
                        cache.putBad(k, System.currentTimeMillis());
                    }
                }
                if (error instanceof RuntimeException) {
                    throw (RuntimeException) error;
                }
                throw new java.util.concurrent.CompletionException(error);
            }).thenApply(found -> {
                try {
                    S valid = checked(found);
                    if (cache != null) {
                        cache.put(k, valid, System.currentTimeMillis());
                    }
                    return valid;
                } catch (StoreException bad) {
                    // Before the call completes, so that every record waiting for it sees both.
                    noticeDue.put(k, Boolean.TRUE);
                    if (cache != null) {
                        cache.putBad(k, System.currentTimeMillis());
                    }
                    throw bad;
                }
            });
        }

        /**
         * The remaining time {@code record} may wait for its answer, from {@code arrivedNanos}
         * (when it reached the lookup); at least a millisecond.
         */
        long remainingMillis(long arrivedNanos) {
            long waited = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - arrivedNanos);
            return Math.max(1L, readTimeoutMillis - waited);
        }

        /**
         * On {@code continue}, a record whose key's document is bad goes on without it; the dead
         * letters get a notice, from the first record that takes the read's verdict (null for
         * the others, and for records that took it from the cache).
         */
        String badDocumentNotice(T record, String k, Throwable error) {
            if (noticeDue.remove(k) == null) {
                return null;
            }
            badDocuments.inc();
            StoreException failure = classified(error);
            String id = correlation.of(record);
            StoreException notice = new StoreException(store, StoreException.BAD_DOCUMENT, Errors.message(failure)
                    + "; the record was decided without it (on lookup_error continue)"
                    + (cache != null ? ", as are the key's records until the cached verdict expires" : ""), null);
            Log.warn("dead_letter", operator(), id, notice.reason() + ": " + Errors.message(notice), null);
            return Errors.envelope(stream, operator(), notice, input.of(record), id);
        }

        /** The dead letter of a record whose key's document the cache knows to be bad. */
        String badDocumentDeadLetter(T record) {
            return deadLetter(record, new StoreException(store, StoreException.BAD_DOCUMENT,
                    "the document of the key is not a valid " + type.getSimpleName() + " (cached verdict)", null));
        }

        /**
         * A failed call: classified, counted and logged; the exception to fail the job with
         * ({@code fail}), or null when the record goes on ({@code continue}) or to the dead
         * letters ({@code dead_letter}). Runs on the client's threads.
         */
        StoreException failed(Throwable error) {
            StoreException failure = Stores.classified(store, error, readTimeoutMillis);
            if (StoreException.BAD_DOCUMENT.equals(failure.reason())) {
                return null; // bad data of one key: the caller makes the record a dead letter
            }
            if (onError == OnLookupError.FAIL) {
                return fatal.report(operator(), null, failure);
            }
            fallbacks.getOrDefault(failure.reason(), fallbacks.get(StoreException.FAILED)).inc();
            long now = System.currentTimeMillis();
            long last = lastLogged.get();
            if (now - last >= LOG_EVERY_MILLIS && lastLogged.compareAndSet(last, now)) {
                long more = unlogged.getAndSet(0);
                // Neither the key nor the record: they may be sensitive (a card number).
                Log.warn("lookup_error", operator(), null, failure.reason() + " (" + cause(failure) + "); on lookup_error "
                        + onError.name().toLowerCase(java.util.Locale.ROOT)
                        + (more > 0 ? "; " + more + " more since the last line" : ""), null);
            } else {
                unlogged.incrementAndGet();
            }
            return null;
        }

        private String cause(StoreException failure) {
            Throwable root = failure;
            while (root.getCause() != null && root.getCause() != root) {
                root = root.getCause();
            }
            if (root instanceof TimeoutException || root.getClass().getSimpleName().contains("Timeout")) {
                return "no answer within " + readTimeoutMillis + " ms";
            }
            if (root instanceof java.util.concurrent.RejectedExecutionException) {
                return "the store's queue is full";
            }
            return root.getClass().getSimpleName();
        }

        /**
         * The dead letter of a record whose lookup failed: recoverable (replaying it when the
         * store answers again decides it), with the store's reason and a message without the
         * key (it may be sensitive).
         */
        String deadLetter(T record, StoreException failure) {
            String id = correlation.of(record);
            if (StoreException.BAD_DOCUMENT.equals(failure.reason())) {
                Log.warn("dead_letter", operator(), id, failure.reason() + ": " + Errors.message(failure), null);
                return Errors.envelope(stream, operator(), failure, input.of(record), id);
            }
            return Errors.envelope(stream, operator(), new FellBack(failure, cause(failure)), input.of(record), id);
        }

        /**
         * Does a failed call make its record a dead letter? On dead_letter, yes; on fail, only
         * a bad document (anything else failed the job); on continue, no (a bad document sends
         * a notice beside the record instead).
         */
        boolean deadLetters(Throwable error) {
            return onError == OnLookupError.DEAD_LETTER || (onError == OnLookupError.FAIL && badDocument(error));
        }

        StoreException classified(Throwable error) {
            return Stores.classified(store, error, readTimeoutMillis);
        }

        void close() throws Exception {
            if (client != null) {
                client.close();
            }
        }
    }

    /** A lookup failure that made its record a dead letter: the record can be replayed. */
    private static final class FellBack extends StoreException {
        private static final long serialVersionUID = 1L;

        FellBack(StoreException failure, String what) {
            super(failure.store(), failure.reason(), "lookup failed: " + failure.reason() + " (" + what + ")", null);
        }

        @Override
        public String classification() {
            return Errors.RECOVERABLE;
        }
    }

    /** Asks an in-process store on the operator's thread. */
    private static final class InProcess<T, S, E> extends ProcessFunction<T, E> {
        private static final long serialVersionUID = 1L;

        private final Lookup<T, S, E> lookup;

        InProcess(Lookup<T, S, E> lookup) {
            this.lookup = lookup;
        }

        @Override
        public void open(OpenContext context) throws Exception {
            lookup.open(getRuntimeContext());
        }

        @Override
        public void processElement(T record, Context context, Collector<E> out) throws Exception {
            long start = lookup.metrics.start();
            String k = lookup.keyOf(record, dead -> {
                lookup.metrics.error(Errors.RECOVERABLE, "KEY");
                context.output(DeadLetterOutput.TAG, dead);
            }, () -> { });
            if (k == null) {
                return;
            }
            Cached<S> hit = lookup.cached(k);
            S found = null;
            if (hit != null && hit.bad && lookup.onError != OnLookupError.CONTINUE) {
                lookup.metrics.error(Errors.RECOVERABLE, StoreException.BAD_DOCUMENT);
                context.output(DeadLetterOutput.TAG, lookup.badDocumentDeadLetter(record));
                return;
            } else if (hit != null) {
                found = hit.value;
            } else {
                try {
                    found = lookup.askInProcess(k);
                } catch (RuntimeException e) {
                    StoreException fatal = lookup.failed(e);
                    if (fatal != null) {
                        throw fatal;
                    }
                    if (lookup.deadLetters(e)) {
                        StoreException failure = lookup.classified(e);
                        lookup.metrics.error(Errors.RECOVERABLE, failure.reason());
                        context.output(DeadLetterOutput.TAG, lookup.deadLetter(record, failure));
                        return;
                    }
                    if (lookup.badDocument(e)) {
                        String notice = lookup.badDocumentNotice(record, k, e);
                        if (notice != null) {
                            lookup.metrics.error(Errors.RECOVERABLE, StoreException.BAD_DOCUMENT);
                            context.output(DeadLetterOutput.TAG, notice);
                        }
                    }
                }
            }
            out.collect(lookup.combine.apply(record, found));
            lookup.metrics.emitted(start);
        }

        @Override
        public void close() throws Exception {
            lookup.close();
        }
    }

    /**
     * Asks a remote store through async I/O; what goes on is {@code wrap}ped (the record with
     * its answer) or a dead letter. The callbacks run on the client's threads: they touch only
     * the (locked) cache, atomic counters and the result.
     */
    private abstract static class Asking<T, S, E, R> extends RichAsyncFunction<T, R> {
        private static final long serialVersionUID = 1L;

        final Lookup<T, S, E> lookup;

        Asking(Lookup<T, S, E> lookup) {
            this.lookup = lookup;
        }

        abstract R wrap(E row);

        abstract R deadLetter(String envelope);

        @Override
        public void open(OpenContext context) throws Exception {
            lookup.open(getRuntimeContext());
        }

        @Override
        public void asyncInvoke(T record, ResultFuture<R> future) throws Exception {
            long arrived = System.nanoTime();
            lookup.metrics.start();
            Once<R> result = new Once<>(future);
            String k = lookup.keyOf(record, dead -> result.complete(Collections.singleton(deadLetter(dead))),
                    () -> result.complete(Collections.emptyList()));
            if (k == null) {
                return;
            }
            Cached<S> hit = lookup.cached(k);
            if (hit != null && hit.bad && lookup.onError != OnLookupError.CONTINUE) {
                result.complete(Collections.singleton(deadLetter(lookup.badDocumentDeadLetter(record))));
                return;
            }
            if (hit != null) {
                result.complete(Collections.singleton(wrap(lookup.combine.apply(record, hit.value))));
                return;
            }
            // This record's own deadline, from when it arrived: a copy of the (possibly shared)
            // call times out, never the call itself, which goes on for the other records
            // waiting for it and for the cache.
            // The deadline goes with the call, so that the client does not send a read every
            // record waiting for it has given up on (StoreExecutor).
            lookup.ask(k, arrived + TimeUnit.MILLISECONDS.toNanos(lookup.readTimeoutMillis))
                    .copy().orTimeout(lookup.remainingMillis(arrived), TimeUnit.MILLISECONDS)
                    .whenComplete((found, error) -> {
                        try {
                            answer(record, k, found, error, result);
                        } catch (Throwable e) {
                            // A bug, not the store: fail visibly rather than leave the record waiting.
                            result.completeExceptionally(e);
                        }
                    });
        }

        private void answer(T record, String k, S found, Throwable error, Once<R> result) {
            if (error == null) {
                result.complete(Collections.singleton(wrap(lookup.combine.apply(record, found))));
                return;
            }
            StoreException fatal = lookup.failed(error);
            if (fatal != null) {
                result.completeExceptionally(fatal);
            } else if (lookup.deadLetters(error)) {
                result.complete(Collections.singleton(deadLetter(lookup.deadLetter(record, lookup.classified(error)))));
            } else if (lookup.badDocument(error)) {
                R row = wrap(lookup.combine.apply(record, null));
                String notice = lookup.badDocumentNotice(record, k, error);
                result.complete(notice == null ? Collections.singleton(row) : List.of(row, deadLetter(notice)));
            } else {
                result.complete(Collections.singleton(wrap(lookup.combine.apply(record, null))));
            }
        }

        @Override
        public void close() throws Exception {
            lookup.close();
        }
    }

    /**
     * A record's result, completed at most once: the first completion wins, later ones (a
     * deadline that passed as the answer came) are dropped.
     */
    static final class Once<R> {
        private final ResultFuture<R> result;
        private final java.util.concurrent.atomic.AtomicBoolean done = new java.util.concurrent.atomic.AtomicBoolean();

        Once(ResultFuture<R> result) {
            this.result = result;
        }

        void complete(java.util.Collection<R> rows) {
            if (done.compareAndSet(false, true)) {
                result.complete(rows);
            }
        }

        void completeExceptionally(Throwable error) {
            if (done.compareAndSet(false, true)) {
                result.completeExceptionally(error);
            }
        }
    }

    private static final class RemoteOrDeadLetter<T, S, E> extends Asking<T, S, E, Either<E, String>> {
        private static final long serialVersionUID = 1L;

        RemoteOrDeadLetter(Lookup<T, S, E> lookup) {
            super(lookup);
        }

        @Override
        Either<E, String> wrap(E row) {
            return Either.Left(row);
        }

        @Override
        Either<E, String> deadLetter(String envelope) {
            return Either.Right(envelope);
        }
    }

    /** Passes answered records on and sends dead letters to the dead-letter output. */
    private static final class DeadLetters<E> extends ProcessFunction<Either<E, String>, E> {
        private static final long serialVersionUID = 1L;

        private final String store;
        private transient OperatorMetrics metrics;

        DeadLetters(String store) {
            this.store = store;
        }

        @Override
        public void open(OpenContext context) {
            metrics = OperatorMetrics.register(getRuntimeContext(), "lookup." + store + ".dead_letters");
        }

        @Override
        public void processElement(Either<E, String> answered, Context context, Collector<E> out) {
            long start = metrics.start();
            if (answered.isLeft()) {
                out.collect(answered.left());
                metrics.emitted(start);
            } else {
                metrics.error(Errors.RECOVERABLE, "LOOKUP_FAILED");
                context.output(DeadLetterOutput.TAG, answered.right());
            }
        }
    }
}
