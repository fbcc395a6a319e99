package nexflow.runtime;

import java.util.Collections;
import java.util.List;

/**
 * A problem with one event's data (malformed input, a failed validation, a rejected decision, an
 * impossible computation): recoverable, the event goes to the dead-letter output with
 * {@link #code()} as its machine-readable reason and the job goes on.
 */
public class NexflowDataException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final String code;
    private final List<Violation> violations;

    public NexflowDataException(String code, String message) {
        this(code, message, Collections.emptyList());
    }

    public NexflowDataException(String code, String message, List<Violation> violations) {
        super(message, null, false, false);
        this.code = code;
        this.violations = violations;
    }

    /** The reason code, such as VALIDATION_FAILED or DECIMAL_OVERFLOW. */
    public String code() {
        return code;
    }

    public List<Violation> violations() {
        return violations;
    }
}
