package nexflow.runtime;

import java.math.BigDecimal;
import java.util.List;
import java.util.function.Consumer;
import java.util.regex.Pattern;

/** Helpers of the generated schema contracts, and the one way operators report a bad event. */
public final class Validation {
    private static final Pattern UUID = Pattern.compile(
            "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}");

    private Validation() {}

    /** Throws VALIDATION_FAILED (a recoverable data error) when {@code record} breaks its schema. */
    public static <T> void require(RecordContract<T> contract, T record) {
        List<Violation> violations = contract.violations(record);
        if (!violations.isEmpty()) {
            throw new NexflowDataException("VALIDATION_FAILED", violations.get(0).toString(), violations);
        }
    }

    /**
     * Reports {@code error} for one event: a recoverable error becomes a dead letter (and a log
     * line, and a metric); a record a transform skips ({@link OnError.Skip}) is only counted and
     * logged; a fatal error is counted, logged and rethrown so the job restarts.
     */
    public static void deadLetter(
            Consumer<String> deadLetters,
            ErrorCounter metrics,
            String stream,
            String operator,
            Throwable error,
            String input,
            String correlationId) {
        if (error instanceof OnError.Skip) {
            metrics.error("skipped", Errors.reason(error));
            Log.info("skipped", operator, correlationId, Errors.message(error), null);
            return;
        }
        String classification = Errors.classify(error);
        metrics.error(classification, Errors.reason(error));
        if (Errors.FATAL.equals(classification)) {
            Log.error("fatal_error", operator, correlationId, Errors.message(error), error);
            throw error instanceof RuntimeException ? (RuntimeException) error : new RuntimeException(error);
        }
        Log.warn("dead_letter", operator, correlationId, Errors.reason(error) + ": " + Errors.message(error), null);
        deadLetters.accept(Errors.envelope(stream, operator, error, input, correlationId));
    }

    public static boolean inRange(Number value, String low, String high) {
        BigDecimal v = value instanceof BigDecimal ? (BigDecimal) value : new BigDecimal(value.toString());
        return v.compareTo(new BigDecimal(low)) >= 0 && v.compareTo(new BigDecimal(high)) <= 0;
    }

    public static boolean isUuid(String value) {
        return UUID.matcher(value).matches();
    }

    /** Characters (code points) of a text. */
    public static int length(String value) {
        return value.codePointCount(0, value.length());
    }

    /** Does {@code value} fit decimal(precision, scale) without rounding? */
    public static boolean fitsDecimal(BigDecimal value, int precision, int scale) {
        if (value.signum() == 0) {
            return true;
        }
        // Trailing zeros change precision and scale alike, so the whole digits are the same
        // with or without them; strip them (a new object) only when the scale is too large.
        if (value.scale() > scale && value.stripTrailingZeros().scale() > scale) {
            return false;
        }
        return value.precision() - value.scale() <= precision - scale;
    }
}
