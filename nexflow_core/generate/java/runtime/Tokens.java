package nexflow.runtime;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Tokens of sensitive values: what a job writes instead of a {@code @sensitive} key (a card
 * number) wherever the key identifies a record outside the job's state (the correlation id of
 * log lines, dead letters and alerts; a Kafka record key).
 *
 * <p>A token is stable (the same value always has the same token, so records can still be
 * correlated and a topic still partitions by card) and cannot be turned back into the value:
 * <ul>
 *   <li>{@code tok:} followed by 32 lowercase hex digits: the first 128 bits of
 *       HMAC-SHA256(key, UTF-8 value), when the task manager has a token key: the environment
 *       variable {@value #KEY_VARIABLE} (the key itself) or {@value #KEY_FILE_VARIABLE} (a file
 *       holding it). Without the key, a token cannot be computed from a guessed value.</li>
 *   <li>{@code sha:} followed by 32 hex digits: the first 128 bits of SHA-256("nexflow:" +
 *       value), when no key is set, in local runs over files only. Anyone can compute it from a
 *       guessed value, and a card number is guessable (a known BIN, a check digit). The first
 *       token a process computes without one logs a warning.</li>
 * </ul>
 * A job of an environment that runs on a cluster (setting {@code tokens.require_key}, see
 * {@link #require}) refuses unkeyed tokens: it fails as it starts on a task manager without a
 * key, naming the variables to set, rather than write one {@code sha:} token.
 * Every task manager of a job must have the same key, or one card gets several tokens.
 */
public final class Tokens {
    public static final String KEY_VARIABLE = "NEXFLOW_TOKEN_KEY";
    public static final String KEY_FILE_VARIABLE = "NEXFLOW_TOKEN_KEY_FILE";

    private static final char[] HEX = "0123456789abcdef".toCharArray();
    private static final byte[] KEY = key();
    private static final ThreadLocal<Mac> MAC = ThreadLocal.withInitial(Tokens::mac);
    private static final ThreadLocal<MessageDigest> SHA = ThreadLocal.withInitial(Tokens::sha);
    private static volatile boolean warned;
    private static volatile boolean required;

    private Tokens() {}

    /**
     * This process's job must tokenize with a key (it runs on a cluster): no unkeyed token is
     * computed from now on. {@code now}: fail at once when there is no key (an operator whose
     * records have sensitive fields, as it opens); otherwise the first token fails.
     */
    public static void require(boolean now) {
        required = true;
        if (now && KEY == null) {
            throw missingKey();
        }
    }

    private static IllegalStateException missingKey() {
        return new IllegalStateException("no token key on this task manager: set " + KEY_VARIABLE
                + " (the key) or " + KEY_FILE_VARIABLE + " (a file holding it), the same on every task manager."
                + " A job bound to a cluster environment refuses unkeyed sha: tokens of @sensitive values:"
                + " anyone could compute them from a guessed value, such as a card number");
    }

    /** The token of {@code value} (null stays null). */
    public static String token(String value) {
        if (value == null) {
            return null;
        }
        byte[] bytes = value.getBytes(StandardCharsets.UTF_8);
        if (KEY != null) {
            return "tok:" + hex(MAC.get().doFinal(bytes));
        }
        if (required) {
            throw missingKey();
        }
        if (!warned) {
            warned = true;
            Log.warn("unkeyed_tokens", "tokens", null, "no " + KEY_VARIABLE + " or " + KEY_FILE_VARIABLE
                    + " on this task manager: sensitive keys become unkeyed sha: tokens, which a guessed"
                    + " value can be checked against; set a token key in production", null);
        }
        MessageDigest sha = SHA.get();
        sha.update("nexflow:".getBytes(StandardCharsets.UTF_8));
        return "sha:" + hex(sha.digest(bytes));
    }

    /** Is a token key set in this process? */
    public static boolean keyed() {
        return KEY != null;
    }

    private static String hex(byte[] digest) {
        char[] out = new char[32];
        for (int i = 0; i < 16; i++) {
            out[2 * i] = HEX[(digest[i] >> 4) & 0xf];
            out[2 * i + 1] = HEX[digest[i] & 0xf];
        }
        return new String(out);
    }

    private static byte[] key() {
        String value = System.getenv(KEY_VARIABLE);
        String file = System.getenv(KEY_FILE_VARIABLE);
        if ((value == null || value.isEmpty()) && file != null && !file.isEmpty()) {
            try {
                value = new String(Files.readAllBytes(Paths.get(file)), StandardCharsets.UTF_8)
                        .replaceAll("[\\r\\n]+$", "");
            } catch (IOException e) {
                // A deployment error: fail where the first token is needed, naming the file only.
                throw new IllegalStateException(KEY_FILE_VARIABLE + ": the token key file " + file
                        + " cannot be read (" + e.getClass().getSimpleName() + ")");
            }
        }
        return value == null || value.isEmpty() ? null : value.getBytes(StandardCharsets.UTF_8);
    }

    private static Mac mac() {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(KEY, "HmacSHA256"));
            return mac;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 is not available", e);
        }
    }

    private static MessageDigest sha() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("SHA-256 is not available", e);
        }
    }
}
