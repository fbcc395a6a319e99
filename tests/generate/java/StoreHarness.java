package nexflow.runtime;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.mongodb.MongoSecurityException;
import com.mongodb.MongoTimeoutException;
import com.mongodb.MongoWriteException;
import com.mongodb.ServerAddress;
import com.mongodb.WriteError;
import java.util.Collections;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ExecutionException;
import org.bson.BsonDocument;
import org.bson.Document;

/**
 * Test harness for the L0 runtime's MongoDB store without a server: documents made from a
 * record and read back, secrets resolved from this process's environment and files, the
 * classification of driver failures, and a write to a port nobody listens on. Arguments: the
 * record class, one record as JSON, an unused loopback port. Prints one JSON object.
 */
public final class StoreHarness {
    public static void main(String[] args) throws Exception {
        @SuppressWarnings("unchecked")
        Class<Object> type = (Class<Object>) Class.forName(args[0]);
        Object record = Json.mapper().readValue(args[1], type);
        String nowhere = "mongodb://127.0.0.1:" + args[2] + "/?serverSelectionTimeoutMS=300&connectTimeoutMS=300";
        ObjectNode out = Json.mapper().createObjectNode();

        for (String decimals : new String[] {"decimal128", "string"}) {
            MongoStore<Object> store = new MongoStore<>();
            Map<String, String> settings = new TreeMap<>();
            settings.put("uri", "${env:NX_TEST_MONGO_URI}");
            settings.put("database", "d");
            settings.put("collection", "c");
            settings.put("decimals", decimals);
            store.open("kept", "mongodb:kept", settings);
            JsonNode tree = Json.mapper().readerFor(JsonNode.class)
                    .without(com.fasterxml.jackson.databind.cfg.JsonNodeFeature.STRIP_TRAILING_BIGDECIMAL_ZEROES)
                    .readTree(Json.toBytes(record));
            Document document = store.document("key-1", tree);
            out.put("document." + decimals, document.toJson());
            Object back = Json.mapper().treeToValue(MongoStore.tree(document), type);
            out.put("back." + decimals, Json.toJson(back));
            try {
                store.upsert("key-1", record).get();
                out.put("upsert." + decimals, "written?!");
            } catch (ExecutionException e) {
                StoreException failure = Stores.classified("kept", e.getCause());
                out.put("upsert." + decimals, failure.reason() + " " + failure.classification());
            }
            store.close();
        }

        out.put("secret", Secrets.resolve("${env:NX_TEST_MONGO_URI}|${dir:" + args[3] + ":mongo-uri}|plain"));
        ObjectNode open = out.putObject("open");
        open.put("unset", openError("${env:NX_TEST_UNSET}"));
        open.put("bad", openError("postgres://user:s3cret@h/"));

        ObjectNode classes = out.putObject("classify");
        classes.put("write", reason(new MongoWriteException(
                new WriteError(121, "Document failed validation", new BsonDocument()), new ServerAddress(),
                Collections.emptySet())));
        classes.put("timeout", reason(new MongoTimeoutException("no server")));
        classes.put("security", reason(new MongoSecurityException(null, "auth failed")));
        classes.put("other", reason(new IllegalStateException("bug")));
        // A call that ran out of its time (a client's TimeoutException without a message):
        // unavailable (fatal), naming the bound.
        StoreException late = Stores.classified("kept", new java.util.concurrent.CompletionException(
                new java.util.concurrent.TimeoutException()), 400L);
        out.put("bounded", late.reason() + " " + late.classification() + ": " + late.getMessage());
        StoreException rejected = MongoStore.classify("kept", new MongoWriteException(
                new WriteError(121, "Document failed validation", new BsonDocument()), new ServerAddress(),
                Collections.emptySet()));
        out.set("envelope", Json.mapper().readTree(Errors.envelope("payments", "persist.kept", rejected, "{}", "key-1")));
        StoreException bad = new StoreException("kept", StoreException.BAD_DOCUMENT, "not a record", null);
        classes.put("bad_document", bad.reason() + " " + bad.classification() + " " + Errors.classify(bad) + " " + Errors.reason(bad));

        // Dead-letter envelopes cut to what a Kafka producer may send.
        ObjectNode capped = out.putObject("capped");
        java.util.Properties producer = new java.util.Properties();
        capped.put("default_limit", Errors.envelopeLimit(producer));
        producer.setProperty("max.request.size", "2000000");
        capped.put("limit", Errors.envelopeLimit(producer));
        capped.put("small", new String(Errors.capped("{\"a\":1}", 4096), java.nio.charset.StandardCharsets.UTF_8));
        String input = "\u00e9\"".repeat(3000);
        String big = Errors.envelope("payments", "source", new NexflowDataException("MALFORMED_INPUT", "bad"), input, "k-1");
        byte[] cut = Errors.capped(big, 4096);
        capped.put("bytes", cut.length);
        capped.put("input_chars", input.length());
        capped.put("input_bytes", input.getBytes(java.nio.charset.StandardCharsets.UTF_8).length);
        capped.put("original_bytes", big.getBytes(java.nio.charset.StandardCharsets.UTF_8).length);
        capped.set("envelope", Json.mapper().readTree(cut));
        capped.set("least", Json.mapper().readTree(Errors.capped(big, 60)));
        System.out.println(Json.toJson(out));
    }

    private static String reason(Throwable error) {
        StoreException e = MongoStore.classify("kept", error);
        return e.reason() + " " + e.classification() + " " + Errors.classify(e) + " " + Errors.reason(e);
    }

    private static String openError(String uri) {
        Map<String, String> settings = new TreeMap<>();
        settings.put("uri", uri);
        settings.put("database", "d");
        settings.put("collection", "c");
        try {
            new MongoStore<>().open("kept", "mongodb:kept", settings);
            return "opened?!";
        } catch (StoreException e) {
            return e.reason() + ": " + e.getMessage();
        }
    }
}
