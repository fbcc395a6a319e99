package nexflow.runtime;

import java.io.Serializable;
import java.time.Duration;
import java.util.Collections;
import java.util.Map;
import java.util.TreeMap;

/**
 * Where each logical stream and store of a job lives at run time, and the Kafka client settings.
 *
 * <p>A stream binding is a URI: {@code file:<path>} reads (sources) or writes (sinks) JSON lines,
 * {@code kafka:<topic>} a Kafka topic (jobs bound to an environment with Kafka), {@code memory:<key>}
 * lines kept in the JVM that runs the job (tests, benchmarks: see {@link MemoryStreams}), {@code script:<key>}
 * records and watermarks a test script feeds step by step ({@link ScriptedStreams}). A store binding
 * names its kind the same way ({@code memory:<name>}, {@code jdbc:<url>}, ...). Every stream a job
 * uses must be bound, or the job stops before it starts with a message naming the missing stream.
 */
public final class StreamBindings implements Serializable {
    private static final long serialVersionUID = 1L;

    /**
     * The idle timeout of a source without {@code idle_timeout}: long enough that ordinary gaps
     * in a live partition's traffic do not mark it idle (its next records would then be late),
     * short next to the minutes a correlate or window waits, so a partition without traffic
     * delays timers by at most this much.
     */
    public static final Duration DEFAULT_IDLE_TIMEOUT = Duration.ofSeconds(30);

    /**
     * How far ahead of the processing time a record's event time may be without
     * {@code max_event_time_ahead}: clocks of producers drift by seconds, not hours, and a record
     * stamped further ahead would move the watermark past every record still to come (they
     * would all be late, windows and timeouts would fire early).
     */
    public static final Duration DEFAULT_EVENT_TIME_AHEAD = Duration.ofHours(1);

    private final Map<String, String> settings;

    private StreamBindings(Map<String, String> settings) {
        this.settings = settings;
    }

    /** Bindings from program arguments only ({@code --stream.<name>=<uri>}, ...). */
    public static StreamBindings fromArgs(String[] args) {
        return JobArgs.parse(args).streams();
    }

    /** Bindings from settings keyed {@code stream.<name>}, {@code store.<name>}, {@code kafka.<property>}. */
    public static StreamBindings of(Map<String, String> settings) {
        return new StreamBindings(new TreeMap<>(settings));
    }

    public boolean isBound(String stream) {
        return settings.containsKey("stream." + stream);
    }

    /** The URI {@code stream} is bound to; fails naming the stream when it is not bound. */
    public String uri(String stream) {
        String uri = settings.get("stream." + stream);
        if (uri == null) {
            throw new IllegalArgumentException(
                    "stream '" + stream + "' is not bound; pass --stream." + stream + "=file:/path");
        }
        return uri;
    }

    public boolean isKafka(String stream) {
        return uri(stream).startsWith("kafka:");
    }

    public boolean isMemory(String stream) {
        return uri(stream).startsWith("memory:");
    }

    /** Is the stream fed by a test script ({@code script:<key>}, see {@link ScriptedStreams})? */
    public boolean isScript(String stream) {
        return uri(stream).startsWith("script:");
    }

    /** The key of a {@code script:} binding. */
    public String scriptKey(String stream) {
        String uri = uri(stream);
        if (!uri.startsWith("script:")) {
            throw new IllegalArgumentException("stream '" + stream + "' is bound to '" + uri + "', not script:");
        }
        return uri.substring("script:".length());
    }

    /** The key of a {@code memory:} binding. */
    public String memoryKey(String stream) {
        String uri = uri(stream);
        if (!uri.startsWith("memory:")) {
            throw new IllegalArgumentException("stream '" + stream + "' is bound to '" + uri + "', not memory:");
        }
        return uri.substring("memory:".length());
    }

    /** Records a second a {@code memory:} source hands out ({@code stream.<name>.rate}), or 0 for no limit. */
    public double ratePerSecond(String stream) {
        String value = settings.get("stream." + stream + ".rate");
        return value == null ? 0.0 : Double.parseDouble(value.trim());
    }

    /** The topic of a {@code kafka:} binding. */
    public String topic(String stream) {
        String uri = uri(stream);
        if (!uri.startsWith("kafka:")) {
            throw new IllegalArgumentException("stream '" + stream + "' is bound to '" + uri + "', not a kafka: topic");
        }
        return uri.substring("kafka:".length());
    }

    /** The path of a {@code file:} binding for {@code stream}. */
    public String filePath(String stream) {
        String uri = uri(stream);
        if (!uri.startsWith("file:")) {
            throw new IllegalArgumentException(
                    "stream '" + stream + "' is bound to '" + uri + "'; this job reads and writes only file: and memory: bindings");
        }
        return uri.substring("file:".length());
    }

    /** The parallelism of the stream's source or sink, or -1 for the job's default. */
    public int parallelism(String stream) {
        String value = settings.get("stream." + stream + ".parallelism");
        return value == null ? -1 : Integer.parseInt(value.trim());
    }

    /**
     * The delivery guarantee of a sink: {@code stream.<name>.delivery} ({@code exactly_once} or
     * {@code at_least_once}) when set, else {@code compiled} (what the proc and its environment
     * declare). An unknown value stops the job before it starts, naming the stream.
     */
    public String delivery(String stream, String compiled) {
        String value = settings.get("stream." + stream + ".delivery");
        if (value == null) {
            return compiled;
        }
        String mode = value.trim();
        if (!mode.equals("exactly_once") && !mode.equals("at_least_once")) {
            throw new IllegalArgumentException("stream '" + stream + "' has delivery '" + value
                    + "'; expected exactly_once or at_least_once");
        }
        return mode;
    }

    /** Milliseconds to wait before each record of a file source ({@code stream.<name>.pace_ms}), or 0. */
    /**
     * Must sensitive values be tokenized with a key ({@code tokens.require_key}, set for every
     * environment that runs on a cluster)? Then a task manager without one fails the job.
     */
    public boolean tokenKeyRequired() {
        return "true".equals(settings.getOrDefault("tokens.require_key", "false").trim());
    }

    public long paceMillis(String stream) {
        String value = settings.get("stream." + stream + ".pace_ms");
        return value == null ? 0L : Long.parseLong(value.trim());
    }

    /**
     * How long a source split (a Kafka partition) or a whole source subtask may send nothing
     * before it is marked idle and stops holding the watermark back ({@code stream.<name>.idle_timeout},
     * a duration such as {@code 30000 ms} or a number of milliseconds; 0 disables idleness), or
     * {@link #DEFAULT_IDLE_TIMEOUT}.
     */
    public Duration idleTimeout(String stream) {
        String value = settings.get("stream." + stream + ".idle_timeout");
        return value == null ? DEFAULT_IDLE_TIMEOUT : Duration.ofMillis(millis(stream + ".idle_timeout", value));
    }

    /**
     * How far ahead of the processing time a record's event time may be
     * ({@code stream.<name>.max_event_time_ahead}: a duration, 0 for no bound), or
     * {@link #DEFAULT_EVENT_TIME_AHEAD}. A record further ahead is a dead letter
     * (EVENT_TIME_OUT_OF_RANGE).
     */
    public Duration eventTimeAhead(String stream) {
        String value = settings.get("stream." + stream + ".max_event_time_ahead");
        return value == null ? DEFAULT_EVENT_TIME_AHEAD : Duration.ofMillis(millis(stream + ".max_event_time_ahead", value));
    }

    /**
     * How far behind the processing time a record's event time may be
     * ({@code stream.<name>.max_event_time_behind}: a duration), or 0: no bound (a replay of an
     * old backlog is ordinary; its records are only late where the watermark passed them).
     */
    public Duration eventTimeBehind(String stream) {
        String value = settings.get("stream." + stream + ".max_event_time_behind");
        return value == null ? Duration.ZERO : Duration.ofMillis(millis(stream + ".max_event_time_behind", value));
    }

    /** {@code time} (null: none) with the bounds of {@code stream} ({@link #eventTimeAhead}, {@link #eventTimeBehind}). */
    public <T> Watermarks.EventTime<T> eventTime(String stream, Watermarks.EventTime<T> time) {
        return time == null ? null : time.within(eventTimeAhead(stream), eventTimeBehind(stream));
    }

    /**
     * Where a Kafka source starts reading when the job starts without a checkpoint or savepoint
     * ({@code stream.<name>.start}): {@code committed} (the consumer group's offsets; where the
     * group has none, {@link #startFallback}), {@code earliest}, {@code latest}, or an ISO-8601
     * instant (the first record at or after it). Default {@code committed}.
     */
    public String start(String stream) {
        String value = settings.get("stream." + stream + ".start");
        return value == null ? "committed" : value.trim();
    }

    /**
     * Where a Kafka source that starts from {@code committed} offsets reads a partition its group
     * has no offset for ({@code stream.<name>.start_fallback}): {@code earliest} (the default:
     * nothing is skipped) or {@code latest}.
     */
    public String startFallback(String stream) {
        String value = settings.get("stream." + stream + ".start_fallback");
        return value == null ? "earliest" : value.trim();
    }

    /** {@code stream.<name>.<setting>}, or {@code fallback} when it is not set. */
    public String setting(String stream, String setting, String fallback) {
        String value = settings.get("stream." + stream + "." + setting);
        return value == null ? fallback : value.trim();
    }

    private static long millis(String key, String value) {
        String text = value.trim();
        if (text.endsWith("ms")) {
            text = text.substring(0, text.length() - 2).trim();
        }
        try {
            return Long.parseLong(text);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("stream." + key + " is '" + value + "'; expected milliseconds such as 30000 ms");
        }
    }

    /** The URI a store is bound to; fails naming the store when it is not bound. */
    public String storeUri(String store) {
        String uri = settings.get("store." + store);
        if (uri == null) {
            throw new IllegalArgumentException(
                    "store '" + store + "' is not bound; pass --store." + store + "=memory:" + store);
        }
        return uri;
    }

    /** Every setting of a store ({@code store.<name>.<setting>}), without the prefix. */
    public Map<String, String> storeSettings(String store) {
        return withPrefix("store." + store + ".");
    }

    /** The Kafka client properties ({@code kafka.<property>}), secrets still as references. */
    public Map<String, String> kafkaProperties() {
        return withPrefix("kafka.");
    }

    private Map<String, String> withPrefix(String prefix) {
        Map<String, String> out = new TreeMap<>();
        for (Map.Entry<String, String> e : settings.entrySet()) {
            if (e.getKey().startsWith(prefix)) {
                out.put(e.getKey().substring(prefix.length()), e.getValue());
            }
        }
        return Collections.unmodifiableMap(out);
    }
}
