package nexflow.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.api.Test;

/** Event times out of range are refused as data errors; sensitive values become tokens; masks. */
class EventTimeAndTokensTest {

    private static final long NOW = 1_700_000_000_000L;

    private static Watermarks.EventTime<Long> at(Duration ahead, Duration behind) {
        return Watermarks.<Long>field("at", 5_000, (t, previous) -> t == null ? previous : t).within(ahead, behind);
    }

    @Test
    void anEventTimeWithinTheBoundsIsTheRecordsTime() {
        Watermarks.EventTime<Long> time = at(Duration.ofHours(1), Duration.ofDays(1));
        assertEquals(NOW + 3_600_000, time.of(NOW + 3_600_000, NOW));
        assertEquals(NOW - 86_400_000, time.of(NOW - 86_400_000, NOW));
        assertEquals(Watermarks.NONE, time.of(null, NOW), "no time: the record keeps the watermark's");
    }

    @Test
    void anEventTimeTooFarAheadOrBehindIsADataError() {
        Watermarks.EventTime<Long> time = at(Duration.ofHours(1), Duration.ofDays(1));
        NexflowDataException ahead = assertThrows(NexflowDataException.class, () -> time.of(NOW + 3_600_001, NOW));
        assertEquals("EVENT_TIME_OUT_OF_RANGE", ahead.code());
        assertTrue(ahead.getMessage().contains("field at") && ahead.getMessage().contains("ahead"), ahead.getMessage());
        NexflowDataException behind = assertThrows(NexflowDataException.class, () -> time.of(NOW - 86_400_001, NOW));
        assertTrue(behind.getMessage().contains("behind"), behind.getMessage());
    }

    @Test
    void withoutBoundsOnlyTheYears0001To9999AreRefused() {
        Watermarks.EventTime<Long> time = at(Duration.ZERO, Duration.ZERO);
        assertEquals(Watermarks.LATEST, time.of(Watermarks.LATEST, NOW));
        assertEquals(Watermarks.EARLIEST, time.of(Watermarks.EARLIEST, NOW));
        assertThrows(NexflowDataException.class, () -> time.of(Watermarks.LATEST + 1, NOW));
        assertThrows(NexflowDataException.class, () -> time.of(Watermarks.EARLIEST - 1, NOW));
    }

    @Test
    void theDefaultBoundIsAnHourAheadAndNoneBehind() {
        Watermarks.EventTime<Long> time = Watermarks.field("at", 0, (t, previous) -> t);
        assertEquals(0L, time.of(0L, NOW), "1970 is far behind, and allowed");
        assertThrows(NexflowDataException.class, () -> time.of(NOW + 3_600_001, NOW));
    }

    @Test
    void aTokenIsStableAndIsNotTheValue() throws Exception {
        String card = "4111111111111111";
        String token = Tokens.token(card);
        assertEquals(token, Tokens.token(card));
        assertNotEquals(token, Tokens.token("4111111111111112"));
        assertNull(Tokens.token(null));
        assertTrue(!token.contains(card));
        byte[] digest;
        if (Tokens.keyed() && System.getenv(Tokens.KEY_VARIABLE) == null) {
            return; // keyed from a file: the token's form is checked above only
        }
        if (Tokens.keyed()) {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(System.getenv(Tokens.KEY_VARIABLE).getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
            digest = mac.doFinal(card.getBytes(StandardCharsets.UTF_8));
            assertTrue(token.startsWith("tok:"), token);
        } else {
            digest = MessageDigest.getInstance("SHA-256")
                    .digest(("nexflow:" + card).getBytes(StandardCharsets.UTF_8));
            assertTrue(token.startsWith("sha:"), token);
        }
        StringBuilder hex = new StringBuilder();
        for (int i = 0; i < 16; i++) {
            hex.append(String.format("%02x", digest[i]));
        }
        assertEquals(hex.toString(), token.substring(4), "the first 128 bits, lowercase hex");
    }

    @Test
    void maskKeepsTheLastCharactersCountingCodePoints() {
        assertEquals("************1111", Fn.mask("4111111111111111", 4));
        assertEquals("****", Fn.mask("abcd", 0));
        assertEquals("abcd", Fn.mask("abcd", 10));
        assertEquals("**\uD83D\uDE42", Fn.mask("ab\uD83D\uDE42", 1), "a surrogate pair is one character");
        assertNull(Fn.mask(null, 4));
    }
}
