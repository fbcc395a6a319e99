package nexflow.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.math.BigDecimal;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A dead letter's input shows decimals as they were given or as the record holds them (10,
 * 10.0, 10.50, 100), never stripped or in scientific notation (1E+1, 10.5, 1E+2): the input is
 * re-serialised from a JSON tree, where Jackson's defaults would do both.
 */
class DeadLetterDecimalsTest {

    /** A record of a schema with a sensitive card number and decimal(10,2) amounts. */
    @JsonPropertyOrder({"card", "amount", "fee"})
    public static final class Payment {
        @JsonProperty("card")
        public String card;

        @JsonProperty("amount")
        public BigDecimal amount;

        @JsonProperty("fee")
        public BigDecimal fee;
    }

    /** As a generated contract does it: masking works on the record's JSON tree. */
    static final class PaymentContract implements RecordContract<Payment> {
        private static final long serialVersionUID = 1L;

        @Override
        public Class<Payment> type() {
            return Payment.class;
        }

        @Override
        public List<Violation> violations(Payment record) {
            return List.of();
        }

        @Override
        public Payment normalize(Payment record) {
            return record;
        }

        @Override
        public String maskedJson(Payment record) {
            ObjectNode tree = Json.mapper().valueToTree(record);
            mask(tree);
            return Json.toJson(tree);
        }

        @Override
        public void mask(JsonNode tree) {
            if (tree.has("card")) {
                ((ObjectNode) tree).put("card", "***");
            }
        }

        @Override
        public boolean sensitive() {
            return true;
        }

        @Override
        public String correlationId(Payment record) {
            return null;
        }
    }

    private static final PaymentContract CONTRACT = new PaymentContract();

    private static String inputOf(String envelope) throws Exception {
        return Json.mapper().readTree(envelope).get("input").asText();
    }

    @Test
    void aLineThatFailedToParseKeepsItsDecimalsAsWritten() throws Exception {
        String line = "{\"card\":\"4111111111111111\",\"amount\":10.0,\"fee\":10.50,\"cap\":1e2,"
                + "\"rate\":1E-7,\"whole\":10,\"history\":[100.00,2.5]}";
        String input = Errors.maskedInput(CONTRACT, line);
        assertEquals("{\"card\":\"***\",\"amount\":10.0,\"fee\":10.50,\"cap\":100,"
                + "\"rate\":0.0000001,\"whole\":10,\"history\":[100.00,2.5]}", input);
        String envelope = Errors.envelope("payments", "parse.payments",
                new NexflowDataException("VALIDATION_FAILED", "amount: too large"), input, null);
        assertEquals(input, inputOf(envelope));
    }

    @Test
    void aDecimalTooFarFromOneToWritePlainlyIsStillWritten() {
        // Jackson writes no plain decimal with a scale beyond 9999: in scientific notation
        // then, never a placeholder instead of the input.
        String input = Errors.maskedInput(CONTRACT, "{\"card\":\"4111111111111111\",\"amount\":1e10000}");
        assertEquals("{\"card\":\"***\",\"amount\":1E+10000}", input);
        assertEquals("{\"amount\":1E+10000}",
                Json.toJson(Json.mapper().createObjectNode().put("amount", new BigDecimal("1e10000"))));
        assertEquals("{\"amount\":1E+10000}", new String(Json.toBytes(
                Json.mapper().createObjectNode().put("amount", new BigDecimal("1e10000"))),
                java.nio.charset.StandardCharsets.UTF_8));
    }

    @Test
    void aParsedRecordShowsItsDecimalsAtTheirScale() throws Exception {
        Payment p = new Payment();
        p.card = "4111111111111111";
        p.amount = new BigDecimal("10.00"); // decimal(10,2), as normalize() leaves it
        p.fee = new BigDecimal("1E+1"); // a computed decimal with a negative scale
        String input = CONTRACT.maskedJson(p);
        assertEquals("{\"card\":\"***\",\"amount\":10.00,\"fee\":10}", input);
        String envelope = Errors.envelope("payments", "transform.fees",
                new ArithmeticException("Division by zero"), input, null);
        assertEquals(input, inputOf(envelope));
    }

    @Test
    void recordsWrittenToSinksAreWrittenPlainlyToo() {
        Payment p = new Payment();
        p.card = "x";
        p.amount = new BigDecimal("1E+3");
        p.fee = new BigDecimal("0.00000050");
        assertEquals("{\"card\":\"x\",\"amount\":1000,\"fee\":0.00000050}", Json.toJson(p));
    }
}
