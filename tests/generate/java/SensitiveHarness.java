import java.util.Map;
import java.util.TreeMap;
import nexflow.runtime.Errors;
import nexflow.runtime.Json;
import nexflow.runtime.MongoStore;
import nexflow.runtime.StoreException;
import nexflow.runtime.Tokens;

/**
 * The L0 runtime's handling of sensitive values, called directly: tokens, masked dead-letter
 * inputs, exception messages without values, redacted stack traces, and the TLS context of a
 * MongoDB store. Prints one JSON object. Argument 0: the generated contract class of a record
 * keyed by a card number; 1: a PKCS12 trust store; 2: a PKCS12 key store; 3: a PEM CA file;
 * 4: the stores' password.
 */
public final class SensitiveHarness {
    public static void main(String[] args) throws Exception {
        @SuppressWarnings("unchecked")
        nexflow.runtime.RecordContract<Object> contract = (nexflow.runtime.RecordContract<Object>)
                Class.forName(args[0]).getField("INSTANCE").get(null);
        Map<String, Object> out = new TreeMap<>();
        out.put("keyed", Tokens.keyed());
        out.put("token", Tokens.token("4111111111111111"));
        out.put("sensitive", contract.sensitive());
        Object record = Json.mapper().readValue(
                "{\"pan\":\"4111111111111111\",\"auth_id\":\"a1\",\"amount\":1.00,\"country\":\"US\","
                        + "\"event_time\":\"2024-05-01T10:00:00Z\"}", contract.type());
        out.put("correlation_id", contract.correlationId(record));
        out.put("masked_record", contract.maskedJson(record));
        out.put("masked_line", Errors.maskedInput(contract, "{\"pan\":\"4111111111111111\",\"amount\":\"x\"}"));
        out.put("withheld_line", Errors.maskedInput(contract, "4111111111111111,1.00"));
        // Decimals in dead-letter inputs: a parsed record's at their scale, a line's as written.
        Object ten = contract.normalize(Json.mapper().readValue(
                "{\"pan\":\"4111111111111111\",\"auth_id\":\"a2\",\"amount\":10,\"country\":\"US\","
                        + "\"event_time\":\"2024-05-01T10:00:00Z\"}", contract.type()));
        out.put("masked_record_ten", contract.maskedJson(ten));
        out.put("masked_line_decimals", Errors.maskedInput(contract,
                "{\"pan\":\"4111111111111111\",\"amount\":10.0,\"fee\":10.50,\"cap\":1e2,\"whole\":10}"));
        // Messages: none quotes a value.
        Map<String, String> messages = new TreeMap<>();
        messages.put("number", Errors.message(new NumberFormatException("For input string: \"4111111111111111\"")));
        messages.put("datetime", Errors.message(new java.time.format.DateTimeParseException(
                "Text '4111111111111111' could not be parsed", "4111111111111111", 0)));
        messages.put("arithmetic", Errors.message(new ArithmeticException("Division by zero")));
        messages.put("arithmetic_value", Errors.message(new ArithmeticException("4111111111111111 overflows")));
        try {
            Json.mapper().readValue("{\"pan\":\"4111111111111111\",\"amount\":\"4111111111111111x\"}", contract.type());
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            messages.put("jackson", Errors.message(e));
            messages.put("jackson_reason", Errors.reason(e));
        }
        try {
            Json.mapper().readValue("{\"pan\": 4111111111111111x}", contract.type());
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            messages.put("jackson_syntax", Errors.message(e));
        }
        out.put("messages", messages);
        Throwable redacted = Errors.redacted(new IllegalStateException("wrapper",
                new NumberFormatException("For input string: \"4111111111111111\"")));
        java.io.StringWriter trace = new java.io.StringWriter();
        redacted.printStackTrace(new java.io.PrintWriter(trace));
        out.put("redacted_trace", trace.toString());
        // TLS contexts of a store: trust store, CA file, key store; a wrong password.
        Map<String, String> tls = new TreeMap<>();
        tls.put("truststore", context(Map.of("truststore", args[1], "truststore_password", "${env:STORE_PASS}",
                "truststore_type", "PKCS12")));
        tls.put("ca_file", context(Map.of("ca_file", args[3])));
        tls.put("keystore", context(Map.of("ca_file", args[3], "keystore", args[2],
                "keystore_password", "${env:STORE_PASS}")));
        tls.put("wrong_password", context(Map.of("truststore", args[1], "truststore_password", "wrong-" + args[4])));
        tls.put("unset_password", context(Map.of("keystore", args[2], "keystore_password", "${env:NOT_SET_ANYWHERE}")));
        out.put("tls", tls);
        Map<String, String> settings = new TreeMap<>(Map.of("uri", "x", "database", "d", "collection", "c"));
        settings.put("ca_file", args[3]);
        out.put("problems_without_tls", MongoStore.problems("s", settings));
        settings.put("tls", "yes");
        out.put("problems_bad_tls", MongoStore.problems("s", settings));
        settings.put("tls", "true");
        out.put("problems_ok", MongoStore.problems("s", settings));
        System.out.println(Json.toJson(out));
    }

    private static String context(Map<String, String> settings) {
        try {
            return MongoStore.tlsContext("s", settings, nexflow.runtime.Secrets::resolve).getProtocol();
        } catch (StoreException e) {
            return e.reason() + ": " + e.getMessage();
        }
    }
}
