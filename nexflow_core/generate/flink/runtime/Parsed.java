package nexflow.runtime;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Map;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;

/**
 * What a source hands on for one input (a Kafka record, a line of a file): a validated record of
 * the stream's schema (with its event time, when the stream has one), or the dead-letter envelope
 * of an input that is not one, or nothing (a blank line). Sources decode in the source itself, so that event time can be assigned there
 * (per Kafka partition, see {@link Watermarks#inSource}); {@link ParseRecords} then sends records
 * on and dead letters to {@link DeadLetterOutput#TAG}. No input makes a source fail: a Kafka
 * record with a null value (a tombstone), bytes that are not UTF-8, a line that is not JSON of
 * the schema or breaks a constraint, an event time out of range (EVENT_TIME_OUT_OF_RANGE) all
 * become dead letters.
 */
public final class Parsed<T> {
    /** The record, or null for a dead letter or a skipped input. */
    public T record;
    /** The dead-letter envelope (JSON, see {@link Errors#envelope}), or null. */
    public String deadLetter;
    /** The dead letter's reason code (MALFORMED_INPUT, NULL_VALUE, ...), or null. */
    public String reason;
    /** The dead letter's message, for the log line, or null. */
    public String message;
    /** The correlation id of the input, when it has one. */
    public String correlationId;
    /**
     * The record's event time in epoch milliseconds, checked when it was decoded
     * ({@link Watermarks.EventTime#of}); {@link Watermarks#NONE} without one.
     */
    public long eventTime = Watermarks.NONE;

    public Parsed() {}

    /** The type of {@code Parsed<T>} with its record's type: a POJO, never a generic (Kryo) type. */
    @SuppressWarnings({"unchecked", "rawtypes"})
    public static <T> TypeInformation<Parsed<T>> type(Class<T> record) {
        return (TypeInformation) Types.POJO(Parsed.class, Map.of(
                "record", TypeInformation.of(record),
                "deadLetter", Types.STRING,
                "reason", Types.STRING,
                "message", Types.STRING,
                "correlationId", Types.STRING,
                "eventTime", Types.LONG));
    }

    public boolean isRecord() {
        return record != null;
    }

    public boolean isDeadLetter() {
        return deadLetter != null;
    }

    /**
     * Decodes one JSON text into a validated, normalized record of {@code contract}'s schema;
     * an input that is not one becomes a dead letter of operator {@code parse.<stream>} (an error
     * that is not about the data, such as a bug, still fails the task: see
     * {@link Errors#classify}). A blank text is skipped.
     */
    public static <T> Parsed<T> decode(String stream, RecordContract<T> contract, String line) {
        return decode(stream, contract, line, null);
    }

    /**
     * As above, and with {@code time} (null: none) the record's event time, checked against the
     * representable range and the stream's bounds around the processing time now
     * ({@link Watermarks.EventTime#of}): a time out of range makes the record a dead letter
     * (EVENT_TIME_OUT_OF_RANGE).
     */
    public static <T> Parsed<T> decode(String stream, RecordContract<T> contract, String line, Watermarks.EventTime<T> time) {
        Parsed<T> out = new Parsed<>();
        if (line == null || line.isBlank()) {
            return out;
        }
        T record = null;
        try {
            record = Json.mapper().readValue(line, contract.type());
            if (record == null) {
                throw new NexflowDataException("MALFORMED_INPUT", "the line is JSON null, not a record");
            }
            Validation.require(contract, record);
            T normalized = contract.normalize(record);
            if (time != null) {
                out.eventTime = time.of(normalized, System.currentTimeMillis());
            }
            out.record = normalized;
            return out;
        } catch (Exception e) {
            if (Errors.FATAL.equals(Errors.classify(e))) {
                throw e instanceof RuntimeException ? (RuntimeException) e : new IllegalStateException(e);
            }
            // The input as dead letters carry it: sensitive fields masked (Errors#maskedInput).
            return failed(stream, e, Errors.maskedInput(contract, line),
                    record == null ? null : contract.correlationId(record));
        }
    }

    /**
     * Decodes the value of a Kafka record: a null value (a tombstone) or bytes that are not UTF-8
     * become dead letters (reasons NULL_VALUE, UNDECODABLE) naming where the record is
     * (topic, partition and offset), the rest as {@link #decode(String, RecordContract, String)}.
     * The place is spelled out only for such a dead letter, never for a record that decodes.
     */
    public static <T> Parsed<T> decode(
            String stream, RecordContract<T> contract, byte[] value, String topic, int partition, long offset) {
        return decode(stream, contract, value, topic, partition, offset, null);
    }

    /** As above, with the record's event time checked ({@link #decode(String, RecordContract, String, Watermarks.EventTime)}). */
    public static <T> Parsed<T> decode(String stream, RecordContract<T> contract, byte[] value, String topic,
            int partition, long offset, Watermarks.EventTime<T> time) {
        if (value == null) {
            String where = where(topic, partition, offset);
            return failed(stream, new NexflowDataException("NULL_VALUE",
                    "the Kafka record at " + where + " has a null value (a tombstone), not a record"), null, null);
        }
        String line;
        try {
            line = StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(value))
                    .toString();
        } catch (CharacterCodingException e) {
            String where = where(topic, partition, offset);
            return failed(stream, new NexflowDataException("UNDECODABLE",
                    "the value of the Kafka record at " + where + " is not UTF-8 text (" + value.length
                            + " bytes; the input is their base64)"),
                    Errors.maskedInput(contract, Base64.getEncoder().encodeToString(value)), null);
        }
        return decode(stream, contract, line, time);
    }

    /** A Kafka record's place as dead letters name it: {@code <topic>/<partition>@<offset>}. */
    static String where(String topic, int partition, long offset) {
        return topic + "/" + partition + "@" + offset;
    }

    private static <T> Parsed<T> failed(String stream, Exception error, String input, String correlationId) {
        Parsed<T> out = new Parsed<>();
        out.deadLetter = Errors.envelope(stream, "parse." + stream, error, input, correlationId);
        out.reason = Errors.reason(error);
        out.message = Errors.message(error);
        out.correlationId = correlationId;
        return out;
    }
}
