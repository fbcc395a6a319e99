package nexflow.runtime;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.charset.StandardCharsets;
import java.util.Properties;
import org.junit.jupiter.api.Test;

/** Dead-letter envelopes are cut to what the Kafka sink can write, and still say what failed. */
class DeadLetterEnvelopeTest {

    private static JsonNode parse(byte[] bytes) throws Exception {
        return Json.mapper().readTree(new String(bytes, StandardCharsets.UTF_8));
    }

    private static String envelope(String input, String message) {
        return Json.toJson(Json.mapper().createObjectNode()
                .put("stream", "payments")
                .put("operator", "parse")
                .put("reason", "BAD_RECORD")
                .put("classification", "recoverable")
                .put("correlation_id", "c-1")
                .put("message", message)
                .put("input", input));
    }

    @Test
    void theLimitIsTheProducersRequestSizeLessHeadroom() {
        Properties producer = new Properties();
        assertEquals(Errors.DEFAULT_MAX_REQUEST_BYTES - Errors.REQUEST_HEADROOM_BYTES, Errors.envelopeLimit(producer));
        producer.setProperty("max.request.size", " 200000 ");
        assertEquals(200_000 - Errors.REQUEST_HEADROOM_BYTES, Errors.envelopeLimit(producer));
        producer.setProperty("max.request.size", "1000");
        assertEquals(1024, Errors.envelopeLimit(producer), "never below 1 KiB");
        producer.setProperty("max.request.size", "lots");
        assertEquals(Errors.DEFAULT_MAX_REQUEST_BYTES - Errors.REQUEST_HEADROOM_BYTES, Errors.envelopeLimit(producer));
    }

    @Test
    void anEnvelopeThatFitsIsWrittenAsItIs() {
        String small = envelope("{\"id\":1}", "bad amount");
        assertArrayEquals(small.getBytes(StandardCharsets.UTF_8), Errors.capped(small, 4096));
    }

    @Test
    void aLargeInputIsCutToAPrefixAndMarked() throws Exception {
        String input = "x".repeat(10_000);
        byte[] out = Errors.capped(envelope(input, "bad amount"), 2048);
        assertTrue(out.length <= 2048, "at most the limit: " + out.length);
        JsonNode tree = parse(out);
        assertTrue(tree.get("truncated").asBoolean());
        assertTrue(tree.get("input_truncated").asBoolean());
        assertEquals(10_000, tree.get("input_bytes").asInt());
        assertTrue(input.startsWith(tree.get("input").asText()));
        assertTrue(tree.get("input").asText().length() > 1000, "the longest prefix that fits is kept");
        assertEquals("bad amount", tree.get("message").asText(), "the message was short enough");
        assertFalse(tree.has("message_truncated"));
        assertEquals("BAD_RECORD", tree.get("reason").asText());
    }

    @Test
    void aPrefixNeverEndsInHalfASurrogatePair() throws Exception {
        String input = "\uD83D\uDE42".repeat(3_000); // 🙂, two UTF-16 chars and 4 UTF-8 bytes each
        for (int limit = 1200; limit < 1240; limit++) { // wherever the cut falls
            byte[] out = Errors.capped(envelope(input, "m"), limit);
            assertTrue(out.length <= limit);
            String kept = parse(out).get("input").asText();
            assertTrue(kept.codePoints().allMatch(c -> c == 0x1F642), "whole pairs only, limit " + limit);
        }
    }

    @Test
    void whenEvenTheMessageCannotFitOnlyTheClassificationIsKept() throws Exception {
        String stream = "s".repeat(900);
        String big = Json.toJson(Json.mapper().createObjectNode()
                .put("stream", stream)
                .put("reason", "BAD_RECORD")
                .put("input", "x".repeat(5000))
                .put("message", "y".repeat(5000)));
        byte[] out = Errors.capped(big, 1024);
        assertTrue(out.length <= 1024, "length " + out.length);
        JsonNode tree = parse(out);
        assertEquals("BAD_RECORD", tree.get("reason").asText());
        assertTrue(tree.get("truncated").asBoolean());
        assertFalse(tree.has("input"));
        assertFalse(tree.has("message"));
    }

    @Test
    void textThatIsNotJsonBecomesTheInputOfAnEnvelope() throws Exception {
        String text = "not json ".repeat(1000);
        JsonNode tree = parse(Errors.capped(text, 2048));
        assertTrue(tree.get("truncated").asBoolean());
        assertTrue(text.startsWith(tree.get("input").asText()));
        assertEquals(text.length(), tree.get("original_bytes").asInt());
    }

    @Test
    void theReasonOfAnEnvelopeIsReadForCounting() {
        assertEquals("BAD_RECORD", Errors.reasonOf(envelope("{}", "m")));
        assertEquals("INTERNAL", Errors.reasonOf("{\"stream\":\"s\"}"));
        assertEquals("INTERNAL", Errors.reasonOf("not json"));
    }
}
