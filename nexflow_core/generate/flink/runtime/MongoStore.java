package nexflow.runtime;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectReader;
import com.fasterxml.jackson.databind.cfg.JsonNodeFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.mongodb.ConnectionString;
import com.mongodb.ErrorCategory;
import com.mongodb.MongoClientSettings;
import com.mongodb.MongoCommandException;
import com.mongodb.MongoConfigurationException;
import com.mongodb.MongoException;
import com.mongodb.MongoExecutionTimeoutException;
import com.mongodb.MongoNodeIsRecoveringException;
import com.mongodb.MongoNotPrimaryException;
import com.mongodb.MongoSecurityException;
import com.mongodb.MongoSocketException;
import com.mongodb.MongoTimeoutException;
import com.mongodb.MongoWriteConcernException;
import com.mongodb.MongoWriteException;
import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoClients;
import com.mongodb.client.MongoCollection;
import com.mongodb.client.model.Filters;
import com.mongodb.client.model.ReplaceOptions;
import java.math.BigDecimal;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.KeyManager;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import org.bson.BsonSerializationException;
import org.bson.Document;
import org.bson.types.Decimal128;

/**
 * A MongoDB collection as a keyed store ({@code stores { <name> { type: mongodb ... } }}),
 * through the official MongoDB Java driver.
 *
 * <p>Settings ({@code store.<name>.<setting>}, each overridable with
 * {@code --store.<name>.<setting>=<value>}):
 * <ul>
 *   <li>{@code uri} (required): a MongoDB connection string; write concern, timeouts, TLS and
 *       credentials go in it. Usually a secret, {@code env("MONGO_URI")}: resolved here, on the
 *       task manager ({@link Secrets}).</li>
 *   <li>{@code database}, {@code collection} (required).</li>
 *   <li>{@code decimals}: {@code decimal128} (the default; exact) or {@code string} (the
 *       decimal's text, for servers without Decimal128 such as FerretDB 1.x).</li>
 *   <li>{@code tls}: {@code true} encrypts every connection to the servers and verifies their
 *       certificates and host names; {@code truststore} / {@code ca_file}, {@code keystore} and
 *       their passwords (secret references) say which certificates (see {@link #tlsContext}).
 *       {@code --store.<name>.tls=false} turns it off for a run against a test server without
 *       TLS (the certificates are then not read); the compiler refuses certificates without
 *       {@code tls: true} in an environment.</li>
 *   <li>{@code threads}: how many writes and reads run at once per parallel instance (default
 *       {@value #DEFAULT_THREADS}). At most {@link StoreExecutor#queueBound} more calls wait for
 *       them (100 by default); a call that finds the queue full fails at once with
 *       {@code STORE_UNAVAILABLE}, and a read every waiting record has given up on is not sent
 *       ({@link StoreExecutor}).</li>
 *   <li>{@code read_timeout}, {@code write_timeout}: how long one lookup or one write may take
 *       (defaults {@value Stores#DEFAULT_READ_TIMEOUT_MILLIS} ms and
 *       {@value Stores#DEFAULT_WRITE_TIMEOUT_MILLIS} ms). The driver's client-side operation
 *       timeout enforces them: the clock starts when the call starts on one of the store's
 *       threads (not while it waits for one), and covers choosing a server, getting a
 *       connection, retries and the server's answer. A call that runs out of time fails with
 *       {@code STORE_UNAVAILABLE}.</li>
 * </ul>
 *
 * <p>A record is one document: {@code _id} is the record's store key, the other fields are the
 * record's fields as its JSON has them (datetimes as ISO-8601 text, nested records as embedded
 * documents, lists as arrays, integers as int32/int64, decimals as above). {@link #upsert}
 * replaces the document with that {@code _id} or inserts it, so writing a record again (a replay
 * after a restart) leaves the same document. Calls run on the store's own threads and never block
 * the operator that makes them; failures complete the future with a {@link StoreException}.
 */
public final class MongoStore<T> implements StoreClient<T> {
    private static final long serialVersionUID = 1L;

    public static final String PREFIX = "mongodb:";
    public static final int DEFAULT_THREADS = 4;
    /** Settings a binding must have. */
    public static final List<String> REQUIRED = List.of("uri", "database", "collection");

    // Decimals keep their scale (150.00 stays 150.00) on the way to and from documents.
    private static final ObjectReader EXACT = Json.mapper().readerFor(JsonNode.class)
            .without(JsonNodeFeature.STRIP_TRAILING_BIGDECIMAL_ZEROES);
    private static final JsonNodeFactory NODES = JsonNodeFactory.withExactBigDecimals(true);

    private transient String store;
    private transient boolean decimalsAsText;
    private transient MongoClient client;
    private transient MongoCollection<Document> reads;
    private transient MongoCollection<Document> writes;
    private transient long readTimeoutMillis;
    private transient StoreExecutor executor;

    /** The settings a binding lacks or gets wrong, as one message; null when it is complete. */
    public static String problems(String store, Map<String, String> settings) {
        List<String> missing = new ArrayList<>();
        for (String name : REQUIRED) {
            String value = settings.get(name);
            if (value == null || value.isBlank()) {
                missing.add("--store." + store + "." + name);
            }
        }
        List<String> problems = new ArrayList<>();
        String common = Stores.problems(settings);
        if (common != null) {
            problems.add(common);
        }
        if (!missing.isEmpty()) {
            problems.add("a mongodb store needs uri, database and collection; set " + String.join(", ", missing));
        }
        String decimals = settings.getOrDefault("decimals", "decimal128");
        if (!"decimal128".equals(decimals) && !"string".equals(decimals)) {
            problems.add("decimals is '" + decimals + "'; expected decimal128 or string");
        }
        String tls = settings.get("tls");
        if (tls != null && !"true".equals(tls) && !"false".equals(tls)) {
            problems.add("tls is '" + tls + "'; expected true or false");
        }
        String threads = settings.get("threads");
        if (threads != null && !threads.trim().matches("[1-9][0-9]{0,3}")) {
            problems.add("threads is '" + threads + "'; expected a whole number from 1 to 9999");
        }
        return problems.isEmpty() ? null : String.join("; ", problems);
    }

    @Override
    public void open(String store, String uri, Map<String, String> settings) {
        this.store = store;
        String problems = problems(store, settings);
        if (problems != null) {
            throw new StoreException(store, StoreException.CONFIG, problems, null);
        }
        decimalsAsText = "string".equals(settings.get("decimals"));
        String connection;
        try {
            connection = Secrets.resolve(settings.get("uri"));
        } catch (Secrets.SecretException e) {
            throw new StoreException(store, StoreException.CONFIG, "uri: " + e.getMessage(), null);
        }
        ConnectionString parsed;
        try {
            parsed = new ConnectionString(connection);
        } catch (IllegalArgumentException | MongoConfigurationException e) {
            // The message of a bad connection string may quote it, credentials included: not logged.
            throw new StoreException(store, StoreException.CONFIG,
                    "uri is not a MongoDB connection string (" + e.getClass().getSimpleName() + ")", null);
        }
        MongoClientSettings.Builder builder = MongoClientSettings.builder()
                .applyConnectionString(parsed)
                .applicationName("nexflow:" + store);
        if ("true".equals(settings.get("tls"))) {
            SSLContext tls = tlsContext(store, settings, Secrets::resolve);
            // Host names are always verified: a certificate must name the server it came from.
            builder.applyToSslSettings(ssl -> ssl.enabled(true).invalidHostNameAllowed(false).context(tls));
        }
        client = MongoClients.create(builder.build());
        MongoCollection<Document> collection =
                client.getDatabase(settings.get("database")).getCollection(settings.get("collection"));
        readTimeoutMillis = Stores.readTimeoutMillis(settings);
        reads = collection.withTimeout(readTimeoutMillis, TimeUnit.MILLISECONDS);
        writes = collection.withTimeout(Stores.writeTimeoutMillis(settings), TimeUnit.MILLISECONDS);
        int threads = Integer.parseInt(settings.getOrDefault("threads", String.valueOf(DEFAULT_THREADS)).trim());
        executor = new StoreExecutor(store, threads);
    }

    /**
     * The TLS context of a store with {@code tls: true}: the server's certificate is checked
     * against {@code truststore} (a PKCS12 or JKS file, {@code truststore_password},
     * {@code truststore_type}) or {@code ca_file} (PEM certificates), else the JVM's default
     * trusted authorities; {@code keystore} ({@code keystore_password}, {@code keystore_type})
     * holds the client's certificate and key for mutual TLS. Passwords are secret references
     * resolved by {@code secrets}; a failure names the setting, never a password.
     */
    public static SSLContext tlsContext(String store, Map<String, String> settings,
            java.util.function.UnaryOperator<String> secrets) {
        String at = "tls";
        try {
            TrustManager[] trust = null;
            if (settings.get("truststore") != null) {
                at = "truststore";
                KeyStore keys = keyStore(settings, "truststore", secrets);
                TrustManagerFactory factory = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
                factory.init(keys);
                trust = factory.getTrustManagers();
            } else if (settings.get("ca_file") != null) {
                at = "ca_file";
                KeyStore keys = KeyStore.getInstance(KeyStore.getDefaultType());
                keys.load(null, null);
                try (java.io.InputStream in = java.nio.file.Files.newInputStream(
                        java.nio.file.Paths.get(secrets.apply(settings.get("ca_file"))))) {
                    int n = 0;
                    for (java.security.cert.Certificate c : CertificateFactory.getInstance("X.509").generateCertificates(in)) {
                        keys.setCertificateEntry("ca-" + n++, c);
                    }
                }
                TrustManagerFactory factory = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
                factory.init(keys);
                trust = factory.getTrustManagers();
            }
            KeyManager[] own = null;
            if (settings.get("keystore") != null) {
                at = "keystore";
                KeyStore keys = keyStore(settings, "keystore", secrets);
                KeyManagerFactory factory = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
                factory.init(keys, password(settings, "keystore", secrets));
                own = factory.getKeyManagers();
            }
            at = "tls";
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(own, trust, null);
            return context;
        } catch (Secrets.SecretException e) {
            throw new StoreException(store, StoreException.CONFIG, at + ": " + e.getMessage(), null);
        } catch (java.io.IOException | java.security.GeneralSecurityException | RuntimeException e) {
            // Not the exception's message: a keystore's may quote what it read.
            throw new StoreException(store, StoreException.CONFIG,
                    at + " cannot be used (" + e.getClass().getSimpleName() + ")", null);
        }
    }

    private static KeyStore keyStore(Map<String, String> settings, String name,
            java.util.function.UnaryOperator<String> secrets) throws java.io.IOException, java.security.GeneralSecurityException {
        KeyStore keys = KeyStore.getInstance(settings.getOrDefault(name + "_type", KeyStore.getDefaultType()));
        try (java.io.InputStream in = java.nio.file.Files.newInputStream(java.nio.file.Paths.get(secrets.apply(settings.get(name))))) {
            keys.load(in, password(settings, name, secrets));
        }
        return keys;
    }

    private static char[] password(Map<String, String> settings, String name,
            java.util.function.UnaryOperator<String> secrets) {
        String reference = settings.get(name + "_password");
        return reference == null ? null : secrets.apply(reference).toCharArray();
    }

    @Override
    public CompletableFuture<Void> upsert(String key, T record) {
        Document document;
        try {
            document = document(key, EXACT.readTree(Json.toBytes(record)));
        } catch (java.io.IOException | RuntimeException e) {
            return failed(classify(store, e));
        }
        return executor.write(() -> {
            try {
                writes.replaceOne(Filters.eq("_id", key), document, new ReplaceOptions().upsert(true));
                return null;
            } catch (RuntimeException e) {
                throw new CompletionException(classify(store, e));
            }
        });
    }

    @Override
    public CompletableFuture<T> get(String key, Class<T> type) {
        return get(key, type, NO_DEADLINE);
    }

    /**
     * The record of {@code key}, read on one of the store's threads; not read at all (failing
     * with {@code STORE_UNAVAILABLE}) when, as a thread takes it, every record that wanted it
     * has given up ({@code deadlineNanos}), or when the store's queue is full
     * ({@link StoreExecutor}).
     */
    @Override
    public CompletableFuture<T> get(String key, Class<T> type, java.util.function.LongSupplier deadlineNanos) {
        return executor.read(deadlineNanos, () -> {
            Document found;
            try {
                found = reads.find(Filters.eq("_id", key)).first();
            } catch (RuntimeException e) {
                throw new CompletionException(classify(store, e));
            }
            if (found == null) {
                return null;
            }
            try {
                return Json.mapper().treeToValue(tree(found), type);
            } catch (java.io.IOException | IllegalArgumentException e) {
                // A document of the wrong shape is bad data of this one key, not a broken store.
                throw new CompletionException(new StoreException(store, StoreException.BAD_DOCUMENT,
                        "the document of a key is not a " + type.getSimpleName() + ": "
                                + Errors.message(e), e));
            }
        });
    }

    @Override
    public int queuedCalls() {
        return executor == null ? 0 : executor.queued();
    }

    @Override
    public long skippedReads() {
        return executor == null ? 0 : executor.skipped();
    }

    @Override
    public long refusedCalls() {
        return executor == null ? 0 : executor.rejected();
    }

    @Override
    public void close() {
        if (executor != null) {
            executor.shutdown();
        }
        if (client != null) {
            client.close();
        }
    }

    /**
     * Stops the MongoDB driver's buffer-pool pruner: a thread the driver starts once per class
     * loader (for its shared {@code PowerOfTwoBufferPool.DEFAULT}) and never stops. Left running,
     * it keeps this job's classes loaded on a TaskManager after the job has gone: each run of a
     * job there kept 20-30 MB of metaspace until the TaskManager died of "OutOfMemoryError:
     * Metaspace". Flink runs this when it releases the job's class loader ({@link
     * Stores#releaseWithJob}), so no client of the job is left to need the pool. The method is
     * internal to the driver (tests/generate/test_class_loader_release.py fails when a driver
     * version no longer has it); a failure here is logged, never thrown: the job has ended.
     */
    static void stopBufferPruner() {
        try {
            Class<?> pool = Class.forName("com.mongodb.internal.connection.PowerOfTwoBufferPool");
            Object shared = pool.getField("DEFAULT").get(null);
            java.lang.reflect.Method disable = pool.getDeclaredMethod("disablePruning");
            disable.setAccessible(true);
            disable.invoke(shared);
        } catch (ReflectiveOperationException | RuntimeException e) {
            Log.warn("store_driver_release_failed", "mongodb", null,
                    "could not stop the MongoDB driver's buffer-pool pruner thread (" + e + "): this job's "
                    + "classes stay loaded on this TaskManager", null);
        }
    }

    /** The document a record is kept as: {@code _id} first, then the record's fields. */
    Document document(String key, JsonNode record) {
        Document out = new Document("_id", key);
        Iterator<Map.Entry<String, JsonNode>> fields = record.fields();
        while (fields.hasNext()) {
            Map.Entry<String, JsonNode> field = fields.next();
            if (!"_id".equals(field.getKey())) {
                out.append(field.getKey(), bson(field.getValue()));
            }
        }
        return out;
    }

    private Object bson(JsonNode node) {
        if (node == null || node.isNull() || node.isMissingNode()) {
            return null;
        }
        if (node.isObject()) {
            Document out = new Document();
            node.fields().forEachRemaining(e -> out.append(e.getKey(), bson(e.getValue())));
            return out;
        }
        if (node.isArray()) {
            List<Object> out = new ArrayList<>();
            node.forEach(item -> out.add(bson(item)));
            return out;
        }
        if (node.isBigDecimal()) {
            BigDecimal value = node.decimalValue();
            return decimalsAsText ? value.toPlainString() : new Decimal128(value);
        }
        if (node.isInt() || node.isShort()) {
            return node.intValue();
        }
        if (node.isLong()) {
            return node.longValue();
        }
        if (node.isBigInteger()) {
            // Beyond a long: kept exactly, as text.
            return node.bigIntegerValue().toString();
        }
        if (node.isFloatingPointNumber()) {
            return node.doubleValue();
        }
        if (node.isBoolean()) {
            return node.booleanValue();
        }
        return node.asText();
    }

    /** A stored document as the JSON tree of its record ({@code _id} left out). */
    static JsonNode tree(Document document) {
        ObjectNode out = NODES.objectNode();
        for (Map.Entry<String, Object> e : document.entrySet()) {
            if (!"_id".equals(e.getKey())) {
                out.set(e.getKey(), json(e.getValue()));
            }
        }
        return out;
    }

    private static JsonNode json(Object value) {
        JsonNodeFactory f = NODES;
        if (value == null) {
            return f.nullNode();
        }
        if (value instanceof Document) {
            return tree((Document) value);
        }
        if (value instanceof List) {
            ArrayNode out = f.arrayNode();
            for (Object item : (List<?>) value) {
                out.add(json(item));
            }
            return out;
        }
        if (value instanceof Decimal128) {
            return f.numberNode(((Decimal128) value).bigDecimalValue());
        }
        if (value instanceof Integer) {
            return f.numberNode((Integer) value);
        }
        if (value instanceof Long) {
            return f.numberNode((Long) value);
        }
        if (value instanceof Double) {
            return f.numberNode((Double) value);
        }
        if (value instanceof Boolean) {
            return f.booleanNode((Boolean) value);
        }
        if (value instanceof java.util.Date) {
            return f.textNode(((java.util.Date) value).toInstant().toString());
        }
        return f.textNode(value.toString());
    }

    /** The classified form of a driver failure (see {@link StoreException} for the reasons). */
    static StoreException classify(String store, Throwable error) {
        if (error instanceof StoreException) {
            return (StoreException) error;
        }
        String what = error.getClass().getSimpleName() + ": " + error.getMessage();
        if (error instanceof MongoWriteException) {
            // One document refused (validation, size, a unique index): a problem of this record,
            // unless the server just ran out of time. The server's text quotes the document's
            // values (a duplicate key's): only its error code is kept.
            ErrorCategory category = ((MongoWriteException) error).getError().getCategory();
            String reason = category == ErrorCategory.EXECUTION_TIMEOUT ? StoreException.UNAVAILABLE : StoreException.REJECTED;
            return new StoreException(store, reason, error.getClass().getSimpleName() + ": server error "
                    + ((MongoWriteException) error).getError().getCode() + " (" + category + ")", error);
        }
        if (error instanceof BsonSerializationException) {
            return new StoreException(store, StoreException.REJECTED, error.getClass().getSimpleName(), error);
        }
        if (error instanceof MongoSecurityException) {
            return new StoreException(store, StoreException.CONFIG, what, error);
        }
        if (error instanceof MongoCommandException) {
            int code = ((MongoCommandException) error).getErrorCode();
            // Unauthorized, AuthenticationFailed: credentials or roles, not the data.
            if (code == 13 || code == 18) {
                return new StoreException(store, StoreException.CONFIG, what, error);
            }
        }
        if (error instanceof MongoTimeoutException
                || error instanceof MongoSocketException
                || error instanceof MongoExecutionTimeoutException
                || error instanceof MongoNotPrimaryException
                || error instanceof MongoNodeIsRecoveringException
                || error instanceof MongoWriteConcernException
                || (error instanceof MongoException && (((MongoException) error).hasErrorLabel("RetryableWriteError")
                        || ((MongoException) error).hasErrorLabel("TransientTransactionError")))) {
            return new StoreException(store, StoreException.UNAVAILABLE, what, error);
        }
        return new StoreException(store, StoreException.FAILED, what, error);
    }

    private static <V> CompletableFuture<V> failed(Throwable error) {
        CompletableFuture<V> out = new CompletableFuture<>();
        out.completeExceptionally(error);
        return out;
    }
}
