package nexflow.runtime;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import java.io.Serializable;
import java.util.Objects;

/**
 * One broken rule of a schema: the field path (empty for a record-level {@code validate}), a
 * reason code (REQUIRED, RANGE, LENGTH, PATTERN, ENUM, UUID, VALIDATE) and a message in words.
 */
@JsonPropertyOrder({"field", "code", "message"})
public final class Violation implements Serializable {
    private static final long serialVersionUID = 1L;

    @JsonProperty("field")
    public final String field;

    @JsonProperty("code")
    public final String code;

    @JsonProperty("message")
    public final String message;

    public Violation(String field, String code, String message) {
        this.field = field;
        this.code = code;
        this.message = message;
    }

    @Override
    public boolean equals(Object other) {
        if (!(other instanceof Violation)) {
            return false;
        }
        Violation that = (Violation) other;
        return field.equals(that.field) && code.equals(that.code) && message.equals(that.message);
    }

    @Override
    public int hashCode() {
        return Objects.hash(field, code, message);
    }

    @Override
    public String toString() {
        return (field.isEmpty() ? "" : field + ": ") + code + " " + message;
    }
}
