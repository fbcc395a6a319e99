package nexflow.runtime;

/**
 * A transform's declared error behaviour ({@code on error skip | fail | dead_letter}) and the
 * exceptions that carry it to the operator that runs the transform.
 *
 * <p>A transform wraps any failure with {@link #handle}: under SKIP a data error becomes a {@link Skip}
 * (the operator drops the record and counts it), under FAIL a {@link Failed} (fatal: the
 * operator fails and Flink restarts from the last checkpoint), under DEAD_LETTER it stays as it
 * is (a data error goes to the dead-letter output, anything else is fatal). When a transform
 * calls another, the innermost declared behaviour wins.
 */
public enum OnError {
    SKIP,
    FAIL,
    DEAD_LETTER;

    /** The exception to throw for {@code error} raised inside {@code transform}. */
    public static RuntimeException handle(OnError policy, String transform, RuntimeException error) {
        if (error instanceof Skip || error instanceof Failed) {
            return error;
        }
        if (policy == FAIL) {
            return new Failed(transform, error);
        }
        if (policy == SKIP && Errors.RECOVERABLE.equals(Errors.classify(error))) {
            // Only data errors are skipped: a bug must not silently drop records.
            return new Skip(transform, error);
        }
        return error;
    }

    /** The record is dropped on purpose (on error skip). */
    public static final class Skip extends RuntimeException {
        private static final long serialVersionUID = 1L;

        public Skip(String transform, Throwable cause) {
            super(transform + " skipped the record: " + Errors.message(cause), cause, false, false);
        }
    }

    /** The job must stop (on error fail). */
    public static final class Failed extends RuntimeException {
        private static final long serialVersionUID = 1L;

        public Failed(String transform, Throwable cause) {
            super(transform + " failed and declares `on error fail`: " + Errors.message(cause), cause);
        }
    }
}
