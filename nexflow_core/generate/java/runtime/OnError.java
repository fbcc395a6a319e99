package nexflow.runtime;

/**
 * A transform's declared error behaviour ({@code on error skip | fail | dead_letter}) and the
 * exceptions that carry it to the operator that runs the transform.
 *
 * <p>A transform wraps any failure with {@link #handle}: under SKIP a data error becomes a {@link Skip}
 * (the operator drops the record and counts it), under FAIL a {@link Failed} (fatal: the
 * operator fails and Flink restarts from the last checkpoint), under a declared DEAD_LETTER a
 * {@link DeadLetter} (the operator sends the record to the dead-letter output, with the reason
 * and message of the data error it carries); anything else stays as it is (a data error goes to
 * the dead-letter output, anything else is fatal). When a transform calls another, the
 * innermost declared behaviour wins: a Skip, Failed or DeadLetter passes through the callers'
 * handlers unchanged, while the failure of a transform that declares nothing (dead_letter by
 * default) is handled by its caller's declared behaviour.
 */
public enum OnError {
    SKIP,
    FAIL,
    DEAD_LETTER;

    /**
     * The exception to throw for {@code error} raised inside {@code transform}, whose behaviour
     * is {@code policy}; {@code declared}: the transform says {@code on error ...} (else its
     * policy is the default DEAD_LETTER, which leaves the failure to a calling transform).
     */
    public static RuntimeException handle(
            OnError policy, boolean declared, String transform, RuntimeException error) {
        if (error instanceof Skip || error instanceof Failed || error instanceof DeadLetter) {
            return error; // an inner transform declared what happens: the innermost wins
        }
        if (policy == FAIL) {
            return new Failed(transform, error);
        }
        // Only data errors are skipped or dead-lettered: a bug must not silently drop records.
        boolean data = Errors.RECOVERABLE.equals(Errors.classify(error));
        if (policy == SKIP && data) {
            return new Skip(transform, error);
        }
        if (policy == DEAD_LETTER && declared && data) {
            return new DeadLetter(transform, error);
        }
        return error;
    }

    /** {@link #handle} for a transform that declares its behaviour. */
    public static RuntimeException handle(OnError policy, String transform, RuntimeException error) {
        return handle(policy, true, transform, error);
    }

    /** The data error a {@link DeadLetter} carries, else {@code error} itself. */
    public static Throwable unwrap(Throwable error) {
        return error instanceof DeadLetter && error.getCause() != null ? error.getCause() : error;
    }

    /** The record is dropped on purpose (on error skip). */
    public static final class Skip extends RuntimeException {
        private static final long serialVersionUID = 1L;

        public Skip(String transform, Throwable cause) {
            super(transform + " skipped the record: " + Errors.message(cause), cause, false, false);
        }
    }

    /**
     * The record goes to the dead-letter output (on error dead_letter, declared): {@link Errors}
     * classifies, names and describes it as the data error it carries, so its dead letter is
     * the same as that error's.
     */
    public static final class DeadLetter extends RuntimeException {
        private static final long serialVersionUID = 1L;

        public DeadLetter(String transform, Throwable cause) {
            super(transform + " sent the record to the dead-letter output: " + Errors.message(cause),
                    cause, false, false);
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
