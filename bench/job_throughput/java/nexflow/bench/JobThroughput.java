package nexflow.bench;

// Named although in the same package: Pants infers this file's dependency from the import.
import nexflow.bench.AuthorizationEvents;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.CoreOptions;
import org.apache.flink.configuration.RestOptions;
import org.apache.flink.runtime.minicluster.MiniCluster;
import org.apache.flink.runtime.minicluster.MiniClusterConfiguration;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

/**
 * Runs the card-fraud screen three ways on one Flink MiniCluster over the same input, fed by the
 * same in-memory source (the L0 runtime's {@code memory:} binding) and written as JSON lines to
 * the same counting sink: (a) the job Nexflow generates from examples/card-fraud, (b) the same
 * job hand-written with the DataStream API, (c) the same in Flink SQL.
 *
 * <p>First a warm-up run of each at full speed (so that no job is measured while the JIT still
 * compiles). Then, at a fixed rate (default 20,000 lines a second), each job's latency (from the
 * moment the source hands a line out to the moment its decision reaches the sink) and a check
 * that the three decide every authorization alike. Then throughput at full speed:
 * {@code --runs} rounds of a, b, c (interleaved, so they share the machine's load), and the
 * median of each. Parallelism 1 throughout; the three share the network buffer timeout the
 * generated job's environment declares ({@code buffer_timeout}), or {@code --buffer-timeout-ms}. The last line printed is
 * {@code generated_vs_handwritten=<ratio> generated_vs_sql=<ratio> generated_p99_ms=<ms>}.
 */
public final class JobThroughput {
    static final String JOB = "nexflow.examples.card_fraud.CardFraudScreenJob";
    static final String[] VARIANTS = {"generated", "handwritten", "sql"};

    private final AuthorizationEvents events;
    private final MiniCluster cluster;
    private long[] sentNanos;
    /** The network buffer timeout of every job's environment, in ms; -1: Flink's default. */
    private final long bufferTimeoutMillis;

    /** Counts a sink's lines; for decisions also the latency and the line of each authorization. */
    static final class Counter implements Consumer<String> {
        final AtomicLong lines = new AtomicLong();
        volatile long lastNanos;
        long[] latencyNanos;
        String[] byAuth;
        int[] lineOfAuth;
        long[] sentNanos;

        @Override
        public void accept(String line) {
            long now = System.nanoTime();
            lines.incrementAndGet();
            lastNanos = now;
            if (latencyNanos != null) {
                int k = authNumberIn(line);
                latencyNanos[k] = now - sentNanos[lineOfAuth[k]];
                byAuth[k] = line;
            }
        }
    }

    private JobThroughput(AuthorizationEvents events, MiniCluster cluster, long bufferTimeoutMillis) {
        this.bufferTimeoutMillis = bufferTimeoutMillis;
        this.events = events;
        this.cluster = cluster;
    }

    public static void main(String[] args) throws Exception {
        Map<String, String> opts = new TreeMap<>();
        for (String arg : args) {
            String[] kv = arg.replaceFirst("^--", "").split("=", 2);
            opts.put(kv[0], kv.length > 1 ? kv[1] : "true");
        }
        int events = Integer.parseInt(opts.getOrDefault("events", "100000"));
        int cards = Integer.parseInt(opts.getOrDefault("cards", "20000"));
        int runs = Integer.parseInt(opts.getOrDefault("runs", "3"));
        double rate = Double.parseDouble(opts.getOrDefault("rate", "20000"));
        int latencySeconds = Integer.parseInt(opts.getOrDefault("latency-seconds", "5"));

        // The network buffer timeout the generated job declares (buffer_timeout in its
        // environment), given to all three jobs alike; Flink's default (100 ms) when it has none.
        String declared = NexflowRuntime.defaults(JOB).get("flink.execution.buffer-timeout.interval");
        long bufferTimeoutMillis = Long.parseLong(opts.getOrDefault("buffer-timeout-ms",
                declared == null ? "-1" : declared.replace(" ms", "")));
        int latencyEvents = (int) Math.round(rate * latencySeconds);
        AuthorizationEvents input = AuthorizationEvents.generate(Math.max(events, latencyEvents), cards, 20260314L);
        for (Map.Entry<String, String> p : input.profileJson.entrySet()) {
            NexflowRuntime.putStoreRecord("customer_profiles", p.getKey(), p.getValue());
        }
        System.out.println("network buffer timeout: " + (bufferTimeoutMillis < 0 ? "Flink's default (100 ms)"
                : bufferTimeoutMillis + " ms (" + (opts.containsKey("buffer-timeout-ms") ? "--buffer-timeout-ms"
                        : "declared by the generated job's environment") + "; the same for the three jobs)"));
        System.out.printf(Locale.ROOT, "input: %d lines (%d authorizations, %d cards, %d profiles), seed 20260314%n",
                input.lines.length, input.auths, cards, input.profiles.size());

        Configuration config = new Configuration();
        config.set(RestOptions.BIND_PORT, "0");
        config.set(CoreOptions.DEFAULT_PARALLELISM, 1);
        MiniCluster cluster = new MiniCluster(new MiniClusterConfiguration.Builder()
                .setConfiguration(config).setNumTaskManagers(1).setNumSlotsPerTaskManager(4).build());
        cluster.start();
        try {
            JobThroughput bench = new JobThroughput(input, cluster, bufferTimeoutMillis);
            if (opts.containsKey("profile")) {
                // Only throughput runs of one variant: for a profiler attached to this JVM.
                for (int r = 0; r < runs; r++) {
                    System.out.printf(Locale.ROOT, "%s %.0f events/s%n", opts.get("profile"), bench.throughput(opts.get("profile"), events));
                }
                return;
            }
            bench.run(events, runs, rate, latencyEvents);
        } finally {
            cluster.close();
        }
    }

    private void run(int lines, int runs, double rate, int latencyEvents) throws Exception {
        // A warm-up run of each at full speed first: the JIT compiles the hot code of each job
        // before any measurement (else the first job measured pays for compiling Flink's own).
        for (String v : VARIANTS) {
            double eps = throughput(v, lines);
            System.out.printf(Locale.ROOT, "warm-up %-11s %.0f events/s%n", v, eps);
        }

        // Latency at a fixed rate, and the check that the three decide alike.
        Map<String, double[]> latency = new TreeMap<>();
        Map<String, String[]> decided = new TreeMap<>();
        for (String v : VARIANTS) {
            Counter decisions = new Counter();
            decisions.latencyNanos = new long[events.auths];
            decisions.byAuth = new String[events.auths];
            decisions.lineOfAuth = events.lineOfAuth;
            Map<String, Counter> counts = runOnce(v, latencyEvents, rate, decisions);
            decisions.sentNanos = sentNanos;
            // Skip the first second's authorizations: the job is still starting to run.
            List<Long> lat = new ArrayList<>();
            for (int k = 0; k < events.auths; k++) {
                if (decisions.byAuth[k] != null && events.lineOfAuth[k] >= rate) {
                    lat.add(decisions.latencyNanos[k]);
                }
            }
            long[] sorted = lat.stream().mapToLong(Long::longValue).sorted().toArray();
            double p50 = sorted[(int) (sorted.length * 0.50)] / 1e6;
            double p99 = sorted[(int) (sorted.length * 0.99)] / 1e6;
            latency.put(v, new double[] {p50, p99});
            decided.put(v, decisions.byAuth);
            System.out.printf(Locale.ROOT,
                    "latency %-11s at %.0f/s: p50=%.2f ms p99=%.2f ms (%d decisions measured; decisions=%d alerts=%d late=%d dead_letters=%d)%n",
                    v, rate, p50, p99, sorted.length, counts.get("decisions").lines.get(), counts.get("alerts").lines.get(),
                    counts.get("late").lines.get(),
                    counts.get("dead").lines.get());
        }
        int mismatches = compare(decided);

        // Throughput at full speed: rounds of a, b, c (each warmed up before the latency runs).
        Map<String, List<Double>> results = new TreeMap<>();
        for (int r = 0; r < runs; r++) {
            for (String v : VARIANTS) {
                double eps = throughput(v, lines);
                results.computeIfAbsent(v, x -> new ArrayList<>()).add(eps);
                System.out.printf(Locale.ROOT, "run %d %-11s %.0f events/s%n", r + 1, v, eps);
            }
        }
        Map<String, Double> median = new TreeMap<>();
        for (String v : VARIANTS) {
            double[] xs = results.get(v).stream().mapToDouble(Double::doubleValue).sorted().toArray();
            median.put(v, xs[xs.length / 2]);
            System.out.printf(Locale.ROOT, "throughput %-11s median %.0f events/s (runs: %s)%n", v, xs[xs.length / 2],
                    Arrays.toString(results.get(v).stream().mapToLong(Math::round).toArray()));
        }
        double vsHand = median.get("generated") / median.get("handwritten");
        double vsSql = median.get("generated") / median.get("sql");
        System.out.println("load average after: " + loadAverage());
        System.out.printf(Locale.ROOT, "targets: generated >= 0.95x handwritten: %s; >= 1x sql: %s; p99 < 10 ms: %s; decisions alike: %s%n",
                vsHand >= 0.95, vsSql >= 1.0, latency.get("generated")[1] < 10.0, mismatches == 0);
        System.out.printf(Locale.ROOT, "generated_vs_handwritten=%.3f generated_vs_sql=%.3f generated_p99_ms=%.2f%n",
                vsHand, vsSql, latency.get("generated")[1]);
        if (mismatches != 0) {
            System.exit(1);
        }
    }

    private double throughput(String variant, int lines) throws Exception {
        Counter decisions = new Counter();
        Map<String, Counter> counts = runOnce(variant, lines, 0, decisions);
        long last = 0;
        for (Counter c : counts.values()) {
            last = Math.max(last, c.lastNanos);
        }
        return lines / ((last - sentNanos[0]) / 1e9);
    }

    /** One run of a variant over the first {@code lines} lines; returns each sink's counter. */
    private Map<String, Counter> runOnce(String variant, int lines, double rate, Counter decisions) throws Exception {
        long[] sent = new long[lines];
        sentNanos = sent;
        decisions.sentNanos = sent;
        String[] input = events.lines;
        String key = "authorizations." + variant;
        NexflowRuntime.feed(key, lines, i -> {
            sent[(int) i] = System.nanoTime();
            return input[(int) i];
        });
        Map<String, Counter> counts = new TreeMap<>();
        counts.put("decisions", decisions);
        for (String sink : new String[] {"alerts", "late", "dead"}) {
            counts.put(sink, new Counter());
        }
        for (Map.Entry<String, Counter> c : counts.entrySet()) {
            NexflowRuntime.listen(variant + "." + c.getKey(), c.getValue());
        }

        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        env.setParallelism(1);
        if (bufferTimeoutMillis >= 0) {
            env.setBufferTimeout(bufferTimeoutMillis);
        }
        switch (variant) {
            case "generated":
                NexflowRuntime.build(JOB, env,
                        "--stream.authorizations=memory:" + key,
                        "--stream.authorizations.rate=" + rate,
                        "--stream.auth_decisions=memory:" + variant + ".decisions",
                        "--stream.cardholder_alerts=memory:" + variant + ".alerts",
                        "--stream.late_authorizations=memory:" + variant + ".late",
                        "--stream.auth_dead_letters=memory:" + variant + ".dead",
                        "--store.customer_profiles=memory:customer_profiles",
                        // The job is built for production.infra (parallelism 6, streams up to
                        // 12): on this one-TaskManager, 4-slot MiniCluster, parallelism 1 like
                        // the other variants (else the job waits for slots for ever).
                        "--flink.parallelism.default=1",
                        "--stream.authorizations.parallelism=1",
                        "--stream.auth_decisions.parallelism=1",
                        "--stream.cardholder_alerts.parallelism=1",
                        "--stream.late_authorizations.parallelism=1",
                        "--stream.auth_dead_letters.parallelism=1");
                break;
            case "handwritten":
                HandwrittenCardFraud.build(env, NexflowRuntime.source(key, rate), events.profiles,
                        NexflowRuntime.sink(variant + ".decisions"), NexflowRuntime.sink(variant + ".alerts"),
                        NexflowRuntime.sink(variant + ".late"), NexflowRuntime.sink(variant + ".dead"));
                break;
            default:
                SqlCardFraud.build(env, NexflowRuntime.source(key, rate), events.profiles,
                        NexflowRuntime.sink(variant + ".decisions"), NexflowRuntime.sink(variant + ".alerts"),
                        NexflowRuntime.sink(variant + ".late"), NexflowRuntime.sink(variant + ".dead"));
        }
        cluster.executeJobBlocking(env.getStreamGraph().getJobGraph());
        return counts;
    }

    /** The number of authorizations whose decisions differ between the variants (the first few printed). */
    private int compare(Map<String, String[]> decided) throws Exception {
        ObjectMapper json = new ObjectMapper();
        String[] base = decided.get("generated");
        int mismatches = 0;
        int present = 0;
        for (int k = 0; k < base.length; k++) {
            String expected = base[k] == null ? null : summary(json.readTree(base[k]));
            if (expected != null) {
                present++;
            }
            for (String v : VARIANTS) {
                String[] other = decided.get(v);
                String actual = other[k] == null ? null : summary(json.readTree(other[k]));
                if (expected == null ? actual != null : !expected.equals(actual)) {
                    if (mismatches++ < 10) {
                        System.out.printf("MISMATCH %s %s: generated %s, %s %s%n",
                                AuthorizationEvents.authId(k), v, expected, v, actual);
                    }
                }
            }
        }
        System.out.printf("decisions compared: %d authorizations decided by the generated job; %d differ in another variant%n",
                present, mismatches);
        return mismatches;
    }

    private static String summary(JsonNode d) {
        return String.join("|", d.path("customer_id").asText("null"), d.get("decision").asText(), d.get("reason").asText(),
                Long.toString(d.get("auths_1h").asLong()), decimal(d.get("spend_1h")),
                Long.toString(d.get("auths_24h").asLong()), decimal(d.get("spend_24h")));
    }

    private static String decimal(JsonNode n) {
        return new BigDecimal(n.asText()).setScale(2).toPlainString();
    }

    static String loadAverage() {
        try {
            String[] parts = new String(java.nio.file.Files.readAllBytes(java.nio.file.Paths.get("/proc/loadavg"))).split(" ");
            return parts[0] + " " + parts[1] + " " + parts[2];
        } catch (java.io.IOException e) {
            return String.format(Locale.ROOT, "%.2f", java.lang.management.ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage());
        }
    }

    /** The authorization number in a decision line: the digits after {@code "auth_id":"A}. */
    static int authNumberIn(String line) {
        int at = line.indexOf("\"auth_id\"");
        int start = line.indexOf('"', line.indexOf(':', at) + 1) + 2;
        int k = 0;
        for (int i = start; i < start + 9; i++) {
            k = k * 10 + (line.charAt(i) - '0');
        }
        return k;
    }
}
