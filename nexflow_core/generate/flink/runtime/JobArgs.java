package nexflow.runtime;

import java.util.Collections;
import java.util.Map;
import java.util.TreeMap;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.PipelineOptions;

/**
 * A generated job's settings: its defaults (from the proc and its L5 environment) overridden by
 * program arguments. {@code --stream.<name>=<uri>} binds a stream, {@code --stream.<name>.parallelism=<n>}
 * sets its parallelism, {@code --store.<name>=<uri>} binds a store, {@code --kafka.<property>=<value>}
 * sets a Kafka client property and {@code --flink.<option>=<value>} a Flink option;
 * {@code --tokens.require_key=true|false} says whether sensitive values need a token key (true
 * for cluster environments, see {@link Tokens}). A program argument always wins over a default,
 * except {@code --nexflow.environment=<name>}: a class bound to an environment refuses to start
 * with another environment's arguments.
 */
public final class JobArgs {
    private static final String[] PREFIXES = {
        "stream.", "store.", "kafka.", "flink.", "tokens.", "nexflow."
    };

    /** The environment a job class was bound to, and the one its arguments are for. */
    static final String ENVIRONMENT = "nexflow.environment";

    private final Map<String, String> settings;

    private JobArgs(Map<String, String> settings) {
        this.settings = settings;
    }

    public static JobArgs parse(String[] args) {
        return parse(args, Collections.emptyMap());
    }

    /** {@code defaults} keys carry the same prefixes as arguments, without the dashes. */
    public static JobArgs parse(String[] args, Map<String, String> defaults) {
        Map<String, String> settings = new TreeMap<>(defaults);
        for (String arg : args) {
            if (!arg.startsWith("--")) {
                continue;
            }
            int eq = arg.indexOf('=');
            if (eq < 0) {
                continue;
            }
            String key = arg.substring(2, eq);
            for (String prefix : PREFIXES) {
                if (key.startsWith(prefix) && key.length() > prefix.length()) {
                    settings.put(key, arg.substring(eq + 1));
                }
            }
        }
        String bound = defaults.get(ENVIRONMENT);
        String given = settings.get(ENVIRONMENT);
        if (bound != null && !bound.equals(given)) {
            // A class bound to one environment keeps that environment's defaults for every
            // setting the arguments do not name (stores, TLS, start positions): with another
            // environment's arguments it would run half in each.
            throw new IllegalArgumentException(
                    "this job class was built for environment '" + bound + "', and the program "
                            + "arguments are for environment '" + given + "': build the job for '"
                            + given + "' (nexflow build --environment " + given + "), or start "
                            + "this class with '" + bound + "''s arguments");
        }
        return new JobArgs(settings);
    }

    /** Every setting after overrides (secrets stay references: see {@link Secrets}). */
    public Map<String, String> settings() {
        return Collections.unmodifiableMap(settings);
    }

    public StreamBindings streams() {
        return StreamBindings.of(settings);
    }

    /**
     * The job's Flink configuration. Generated types are all POJOs, so generic (Kryo) types are
     * switched off: a type that would silently fall back to Kryo fails loudly instead.
     */
    public Configuration flinkConfiguration() {
        Map<String, String> flink = new TreeMap<>();
        for (Map.Entry<String, String> e : settings.entrySet()) {
            if (e.getKey().startsWith("flink.")) {
                flink.put(e.getKey().substring("flink.".length()), e.getValue());
            }
        }
        Configuration configuration = Configuration.fromMap(flink);
        configuration.set(PipelineOptions.GENERIC_TYPES, false);
        return configuration;
    }
}
