package nexflow.runtime;

import java.io.Serializable;
import java.util.List;

/**
 * What the runtime knows about a generated record class: its type, how to validate a record
 * against its schema, and how to show one in a log without its sensitive fields.
 */
public interface RecordContract<T> extends Serializable {
    Class<T> type();

    /** Every broken constraint or {@code validate} rule, in schema order; empty when valid. */
    List<Violation> violations(T record);

    /** Puts a valid record's values in canonical form (decimals at their declared scale). */
    T normalize(T record);

    /** The record's JSON with sensitive fields replaced by "***" (safe to log). */
    String maskedJson(T record);

    /**
     * Replaces, in a JSON tree of this record (as read from input, valid or not), the value of
     * every sensitive field (and those of nested records) with "***".
     */
    void mask(com.fasterxml.jackson.databind.JsonNode tree);

    /** Does the record have a sensitive field, of its own or in a nested record? */
    boolean sensitive();

    /**
     * The record's correlation id: its key fields' text, or their token ({@link Tokens}) when a
     * key field is sensitive; null when it has none.
     */
    String correlationId(T record);
}
