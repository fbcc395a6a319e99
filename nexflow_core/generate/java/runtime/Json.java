package nexflow.runtime;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamWriteFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.MapperFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectWriter;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.cfg.JsonNodeFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;

/** The one JSON configuration every generated job uses, so all jobs read and write alike. */
public final class Json {
    private static final ObjectMapper MAPPER = JsonMapper.builder()
            .addModule(new JavaTimeModule())
            // Property order follows the schema (@JsonPropertyOrder), never the JVM's whim.
            .configure(MapperFeature.SORT_PROPERTIES_ALPHABETICALLY, false)
            .configure(MapperFeature.AUTO_DETECT_GETTERS, false)
            .configure(MapperFeature.AUTO_DETECT_IS_GETTERS, false)
            .configure(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS, false)
            .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false)
            .configure(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS, true)
            // Decimals are written as given: a JSON tree (a dead letter's masked input, read
            // back or made from a record) keeps 10.00 and 10.50 as they are, where Jackson
            // would strip them to 1E+1 and 10.5, and no decimal is written in scientific
            // notation (1E+2, 1E-7) but plainly (100, 0.0000001), as BigDecimal#toPlainString.
            .configure(JsonNodeFeature.STRIP_TRAILING_BIGDECIMAL_ZEROES, false)
            .configure(StreamWriteFeature.WRITE_BIGDECIMAL_AS_PLAIN, true)
            .build();

    /**
     * The same, writing decimals in scientific notation: only for a value whose decimal is too
     * far from 1 to write plainly (Jackson refuses a scale beyond +-9999, such as a line's
     * 1e10000), which is then still written (1E+10000) instead of failing.
     */
    private static final ObjectWriter SCIENTIFIC = MAPPER.writer().without(StreamWriteFeature.WRITE_BIGDECIMAL_AS_PLAIN);

    private Json() {}

    public static ObjectMapper mapper() {
        return MAPPER;
    }

    /** The JSON of {@code value} as UTF-8 bytes (a failure is an IllegalStateException). */
    public static byte[] toBytes(Object value) {
        try {
            return MAPPER.writeValueAsBytes(value);
        } catch (JsonProcessingException e) {
            try {
                return SCIENTIFIC.writeValueAsBytes(value);
            } catch (JsonProcessingException again) {
                throw new IllegalStateException("cannot write " + value.getClass().getSimpleName() + " as JSON", e);
            }
        }
    }

    /** The JSON text of {@code value}, or a placeholder naming the failure (never throws). */
    public static String toJson(Object value) {
        try {
            return MAPPER.writeValueAsString(value);
        } catch (JsonProcessingException e) {
            try {
                return SCIENTIFIC.writeValueAsString(value);
            } catch (JsonProcessingException again) {
                return "<unserializable " + value.getClass().getSimpleName() + ": " + e.getMessage() + ">";
            }
        }
    }
}
