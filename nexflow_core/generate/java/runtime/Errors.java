package nexflow.runtime;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.charset.StandardCharsets;
import java.time.DateTimeException;
import java.util.Properties;

/**
 * Error classification and the dead-letter envelope, the same in every generated job.
 *
 * <p><b>Recoverable</b> errors are problems of one event's data: malformed input, a broken schema
 * constraint, a rejected decision, an impossible computation (overflow, division by zero, bad
 * number or date text). The event goes to the dead-letter output and the job continues.
 * <b>Fatal</b> errors are everything else (a bug, an unavailable system, out of memory): the
 * operator fails and Flink's restart strategy takes over from the last checkpoint.
 *
 * <p>The envelope is one JSON object per event:
 * {@code {"stream", "operator", "reason", "classification", "message", "violations",
 * "correlation_id", "input"}} where {@code reason} is a stable code (MALFORMED_INPUT,
 * VALIDATION_FAILED, REJECTED, DECIMAL_OVERFLOW, ARITHMETIC, ...) and {@code input} is the event as
 * it reached the failing operator, with its sensitive fields masked (see {@link #maskedInput} for
 * a line that failed to parse). {@code message} never carries a value (see {@link #message});
 * {@code correlation_id} is the record's key, or its token when the key is sensitive.
 */
public final class Errors {
    public static final String RECOVERABLE = "recoverable";
    public static final String FATAL = "fatal";

    /**
     * How many dead letters one window keeps for the records it could not add (an overflow):
     * beyond that they are counted (metric reason WINDOW_DEAD_LETTERS_DROPPED) and logged.
     */
    public static final int WINDOW_DEAD_LETTERS = 1000;

    private Errors() {}

    public static String classify(Throwable error) {
        error = OnError.unwrap(error);
        if (error instanceof StoreException) {
            return ((StoreException) error).classification();
        }
        if (error instanceof NexflowDataException
                || error instanceof JsonProcessingException
                || error instanceof ArithmeticException
                || error instanceof DateTimeException
                || error instanceof IllegalArgumentException) {
            return RECOVERABLE;
        }
        return FATAL;
    }

    public static String reason(Throwable error) {
        error = OnError.unwrap(error);
        if (error instanceof OnError.Skip && error.getCause() != null) {
            return reason(error.getCause());
        }
        if (error instanceof OnError.Failed) {
            return "TRANSFORM_FAILED";
        }
        if (error instanceof NexflowDataException) {
            return ((NexflowDataException) error).code();
        }
        if (error instanceof StoreException) {
            return ((StoreException) error).reason();
        }
        if (error instanceof JsonProcessingException) {
            return "MALFORMED_INPUT";
        }
        if (error instanceof ArithmeticException) {
            return "ARITHMETIC";
        }
        if (error instanceof DateTimeException) {
            return "DATETIME";
        }
        if (error instanceof NumberFormatException) {
            return "NOT_A_NUMBER";
        }
        if (error instanceof IllegalArgumentException) {
            return "INVALID_ARGUMENT";
        }
        return "INTERNAL";
    }

    /**
     * A short message that never carries a value of the event: dead letters and logs show the
     * classified reason, the field path and this text, never what was in a field (a card
     * number in a NumberFormatException, the input Jackson quotes). Texts of Nexflow's own
     * errors (constraint violations, rejections, store failures) are written without values
     * and kept; Jackson's become their kind and the field path; the JDK's arithmetic texts
     * ("Division by zero", "Overflow") name no value and are kept; any other exception is
     * shown by its class name only.
     */
    public static String message(Throwable error) {
        error = OnError.unwrap(error);
        if (error instanceof NexflowDataException
                || error instanceof StoreException
                || error instanceof OnError.Skip
                || error instanceof OnError.Failed
                || error instanceof Secrets.SecretException) {
            String text = error.getMessage();
            return text == null ? error.getClass().getSimpleName() : text;
        }
        if (error instanceof JsonProcessingException) {
            String path = fieldPath(error);
            return error.getClass().getSimpleName() + (path.isEmpty() ? "" : " at " + path)
                    + location((JsonProcessingException) error);
        }
        if (error instanceof ArithmeticException && error.getMessage() != null
                && !error.getMessage().matches(".*[0-9].*")) {
            return error.getMessage();
        }
        String path = fieldPath(error);
        return error.getClass().getSimpleName() + (path.isEmpty() ? "" : " at " + path);
    }

    /** The field path ({@code amount}, {@code items[2].price}) Jackson reports, or "". */
    public static String fieldPath(Throwable error) {
        if (!(error instanceof JsonMappingException)) {
            return "";
        }
        StringBuilder out = new StringBuilder();
        for (JsonMappingException.Reference r : ((JsonMappingException) error).getPath()) {
            if (r.getFieldName() != null) {
                if (out.length() > 0) {
                    out.append('.');
                }
                out.append(r.getFieldName());
            } else if (r.getIndex() >= 0) {
                out.append('[').append(r.getIndex()).append(']');
            }
        }
        return out.toString();
    }

    private static String location(JsonProcessingException error) {
        JsonLocation at = error.getLocation();
        return at == null || at.getLineNr() < 0 ? "" : " (line " + at.getLineNr() + ", column " + at.getColumnNr() + ")";
    }

    /**
     * {@code error} with every message of its cause chain replaced by {@link #message} and the
     * same stack traces: what a log line attaches, so a stack trace carries no value either.
     */
    public static Throwable redacted(Throwable error) {
        return redacted(error, 0);
    }

    private static Throwable redacted(Throwable error, int depth) {
        if (error == null || depth > 8) {
            return null;
        }
        RuntimeException out = new Redacted(error.getClass().getName() + ": " + message(error),
                redacted(error.getCause(), depth + 1));
        out.setStackTrace(error.getStackTrace());
        return out;
    }

    /**
     * The input a dead letter carries for a line that failed to parse or validate: the line
     * itself when the stream's schema has no sensitive field; else the line's JSON with every
     * sensitive field masked ("***"); else, when the line is not a JSON object (so no field
     * can be found), a placeholder with its length and token instead of the line.
     */
    public static String maskedInput(RecordContract<?> contract, String line) {
        if (line == null || !contract.sensitive()) {
            return line;
        }
        try {
            com.fasterxml.jackson.databind.JsonNode tree = Json.mapper().readTree(line);
            if (tree != null && tree.isObject()) {
                contract.mask(tree);
                return Json.toJson(tree);
            }
        } catch (JsonProcessingException | RuntimeException e) {
            // not JSON: withheld below
        }
        return WITHHELD + line.length() + " characters that are not a JSON object, token "
                + Tokens.token(line) + ")";
    }

    /** How the input of a dead letter starts when the line itself is withheld. */
    public static final String WITHHELD = "*** (withheld: ";

    /** An exception as logs show it, without the values its message had. */
    static final class Redacted extends RuntimeException {
        private static final long serialVersionUID = 1L;

        Redacted(String message, Throwable cause) {
            super(message, cause, false, true);
        }

        @Override
        public String toString() {
            return getMessage();
        }
    }

    /** Kafka's default {@code max.request.size}. */
    public static final int DEFAULT_MAX_REQUEST_BYTES = 1_048_576;
    /** Room left in a request for the record's key, headers and batch framing. */
    public static final int REQUEST_HEADROOM_BYTES = 16_384;

    /**
     * The largest envelope a Kafka sink with these producer properties writes: its
     * {@code max.request.size} (default 1 MiB) less {@link #REQUEST_HEADROOM_BYTES}.
     */
    public static int envelopeLimit(Properties producer) {
        int max = DEFAULT_MAX_REQUEST_BYTES;
        String configured = producer.getProperty("max.request.size");
        if (configured != null) {
            try {
                max = Integer.parseInt(configured.trim());
            } catch (NumberFormatException e) {
                // The producer itself refuses a bad value, with a better message.
            }
        }
        return Math.max(1024, max - REQUEST_HEADROOM_BYTES);
    }

    /**
     * {@code envelope} as UTF-8, at most {@code limit} bytes. A larger one is cut so that the
     * sink never fails on it: its {@code input} (then its {@code message}) keeps only a prefix,
     * marked {@code "input_truncated": true} with the original size {@code "input_bytes"} (the
     * dead letter can no longer be replayed as it is, but says what arrived and why it failed);
     * {@code "truncated": true} and {@code "original_bytes"} mark the envelope. If even that is
     * too large, only its classification is kept (stream, operator, reason, classification,
     * correlation_id).
     */
    public static byte[] capped(String envelope, int limit) {
        byte[] bytes = envelope.getBytes(StandardCharsets.UTF_8);
        if (bytes.length <= limit) {
            return bytes;
        }
        ObjectNode out = null;
        try {
            JsonNode tree = Json.mapper().readTree(envelope);
            if (tree instanceof ObjectNode) {
                out = (ObjectNode) tree;
            }
        } catch (java.io.IOException e) {
            // Not JSON: kept as the input of an envelope of its own.
        }
        if (out == null) {
            out = Json.mapper().createObjectNode();
            out.put("input", envelope);
        }
        out.put("truncated", true);
        out.put("original_bytes", bytes.length);
        for (String field : new String[] {"input", "message"}) {
            JsonNode value = out.get(field);
            if (value == null || !value.isTextual()) {
                continue;
            }
            String text = value.asText();
            out.put(field + "_truncated", true);
            out.put(field + "_bytes", text.getBytes(StandardCharsets.UTF_8).length);
            // The longest prefix that fits (a binary search: a character takes 1 to 6 bytes
            // once encoded and escaped).
            int low = 0;
            int high = text.length();
            while (low < high) {
                int mid = (low + high + 1) >>> 1;
                out.put(field, prefix(text, mid));
                if (Json.toJson(out).getBytes(StandardCharsets.UTF_8).length <= limit) {
                    low = mid;
                } else {
                    high = mid - 1;
                }
            }
            out.put(field, prefix(text, low));
            byte[] now = Json.toJson(out).getBytes(StandardCharsets.UTF_8);
            if (now.length <= limit) {
                return now;
            }
        }
        ObjectNode least = Json.mapper().createObjectNode();
        for (String field : new String[] {"stream", "operator", "reason", "classification", "correlation_id"}) {
            JsonNode value = out.get(field);
            if (value != null && value.isTextual() && value.asText().length() <= 1024) {
                least.set(field, value);
            }
        }
        least.put("truncated", true);
        least.put("original_bytes", bytes.length);
        return Json.toJson(least).getBytes(StandardCharsets.UTF_8);
    }

    /** The first {@code length} characters of {@code text}, without half a surrogate pair. */
    private static String prefix(String text, int length) {
        int end = length > 0 && Character.isHighSurrogate(text.charAt(length - 1)) ? length - 1 : length;
        return text.substring(0, end);
    }

    /** The {@code reason} of an envelope (for counting), INTERNAL when it has none. */
    public static String reasonOf(String envelope) {
        try {
            JsonNode reason = Json.mapper().readTree(envelope).get("reason");
            return reason == null || !reason.isTextual() ? "INTERNAL" : reason.asText();
        } catch (java.io.IOException e) {
            return "INTERNAL";
        }
    }

    public static String envelope(
            String stream, String operator, Throwable error, String input, String correlationId) {
        error = OnError.unwrap(error);
        ObjectNode out = Json.mapper().createObjectNode();
        out.put("stream", stream);
        out.put("operator", operator);
        out.put("reason", reason(error));
        out.put("classification", classify(error));
        out.put("message", message(error));
        ArrayNode violations = out.putArray("violations");
        if (error instanceof NexflowDataException) {
            for (Violation v : ((NexflowDataException) error).violations()) {
                violations.addObject().put("field", v.field).put("code", v.code).put("message", v.message);
            }
        }
        if (correlationId == null) {
            out.putNull("correlation_id");
        } else {
            out.put("correlation_id", correlationId);
        }
        out.put("input", input);
        return Json.toJson(out);
    }
}
