package nexflow.runtime;

/**
 * A store client's failure, classified (see {@link Errors}). Reasons:
 * <ul>
 *   <li>{@code STORE_REJECTED} (recoverable): the store refused this one record (a document
 *       validation rule, a record too large, a unique index other than the key): the record
 *       goes to the dead-letter output and the job goes on.</li>
 *   <li>{@code STORE_UNAVAILABLE} (fatal): the store did not answer in time, the connection
 *       broke, no primary, a write concern not met: the job restarts from its last checkpoint
 *       and writes again.</li>
 *   <li>{@code STORE_CONFIG} (fatal): the binding is wrong (a missing setting, an unset secret,
 *       a bad URI, refused credentials): restarting does not help, the log says what to fix.</li>
 *   <li>{@code BAD_STORE_DOCUMENT} (recoverable): a lookup found a document that is not a record
 *       of the store's schema (a field of the wrong type, a required field missing or null, a
 *       broken constraint): the record being enriched goes to the dead-letter output and the
 *       job goes on. The document is a problem of the data, not of the store.</li>
 *   <li>{@code STORE_FAILED} (fatal): anything else.</li>
 * </ul>
 */
public class StoreException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public static final String REJECTED = "STORE_REJECTED";
    public static final String UNAVAILABLE = "STORE_UNAVAILABLE";
    public static final String CONFIG = "STORE_CONFIG";
    public static final String FAILED = "STORE_FAILED";
    public static final String BAD_DOCUMENT = "BAD_STORE_DOCUMENT";

    private final String store;
    private final String reason;

    public StoreException(String store, String reason, String message, Throwable cause) {
        super("store '" + store + "': " + message, cause);
        this.store = store;
        this.reason = reason;
    }

    public String store() {
        return store;
    }

    /**
     * One of {@link #REJECTED}, {@link #BAD_DOCUMENT}, {@link #UNAVAILABLE}, {@link #CONFIG},
     * {@link #FAILED}.
     */
    public String reason() {
        return reason;
    }

    /**
     * {@link Errors#RECOVERABLE} for a rejected record or a bad document (problems of one
     * record's data), {@link Errors#FATAL} otherwise.
     */
    public String classification() {
        return REJECTED.equals(reason) || BAD_DOCUMENT.equals(reason) ? Errors.RECOVERABLE : Errors.FATAL;
    }
}
