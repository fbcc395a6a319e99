package nexflow.runtime;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.Map;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Secret references in settings, resolved where a client uses them. An environment's
 * {@code env("VAR")} becomes {@code ${env:VAR}} and {@code file("/dir/name")} becomes
 * {@code ${dir:/dir:name}} (the syntax of Kafka's config providers, which resolve Kafka's own
 * settings); stores resolve theirs here, on the task manager that opens the store, so a secret
 * value never appears in generated code, program arguments or the job graph.
 */
public final class Secrets {
    private static final Pattern REFERENCE = Pattern.compile("\\$\\{(env|dir):([^}]*)\\}");

    private Secrets() {}

    /** {@code text} with every reference replaced by its value, read from this process's environment and files. */
    public static String resolve(String text) {
        return resolve(text, System.getenv(), Secrets::readFile);
    }

    /**
     * {@code text} with every reference replaced: {@code ${env:VAR}} by {@code env.get(VAR)},
     * {@code ${dir:DIR:FILE}} by {@code files.apply(DIR/FILE)} (trailing line breaks dropped).
     * A variable that is not set, or a file that cannot be read, fails naming the reference
     * (never the value).
     */
    public static String resolve(String text, Map<String, String> env, Function<Path, String> files) {
        if (text == null || text.indexOf("${") < 0) {
            return text;
        }
        Matcher matcher = REFERENCE.matcher(text);
        StringBuilder out = new StringBuilder();
        while (matcher.find()) {
            String value;
            if ("env".equals(matcher.group(1))) {
                value = env.get(matcher.group(2));
                if (value == null) {
                    throw new SecretException("secret " + matcher.group() + ": environment variable "
                            + matcher.group(2) + " is not set in this process");
                }
            } else {
                String reference = matcher.group(2);
                int colon = reference.lastIndexOf(':');
                if (colon < 0) {
                    throw new SecretException("secret " + matcher.group() + ": expected ${dir:DIRECTORY:FILE}");
                }
                Path file = Paths.get(reference.substring(0, colon), reference.substring(colon + 1));
                value = files.apply(file);
            }
            matcher.appendReplacement(out, Matcher.quoteReplacement(value));
        }
        matcher.appendTail(out);
        return out.toString();
    }

    private static String readFile(Path file) {
        try {
            String text = new String(Files.readAllBytes(file), StandardCharsets.UTF_8);
            return text.replaceAll("[\\r\\n]+$", "");
        } catch (IOException e) {
            throw new SecretException("secret file " + file + " cannot be read: " + e.getClass().getSimpleName());
        }
    }

    /** A reference that cannot be resolved: a deployment error, never a data error. */
    public static final class SecretException extends IllegalStateException {
        private static final long serialVersionUID = 1L;

        SecretException(String message) {
            super(message);
        }
    }
}
