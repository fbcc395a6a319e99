import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.flink.metrics.Gauge;
import org.apache.flink.metrics.Metric;
import org.apache.flink.metrics.MetricConfig;
import org.apache.flink.metrics.MetricGroup;
import org.apache.flink.metrics.reporter.MetricReporter;
import org.apache.flink.metrics.reporter.MetricReporterFactory;
import org.apache.flink.metrics.reporter.Scheduled;

/**
 * A Flink metric reporter for the pipeline tests: remembers the last (and the largest) value of
 * every {@code state_entries} gauge, by operator and subtask, read on every report and once more
 * when the gauge goes away (its task finished). {@link PipelineHarness} prints them after the run.
 */
public final class StateEntriesReporter implements MetricReporter, Scheduled {
    private static final Map<String, Gauge<?>> LIVE = new ConcurrentHashMap<>();
    private static final Map<String, Long> LAST = new ConcurrentHashMap<>();
    private static final Map<String, Long> PEAK = new ConcurrentHashMap<>();

    /** The factory Flink finds through META-INF/services (written by the test). */
    public static final class Factory implements MetricReporterFactory {
        @Override
        public MetricReporter createMetricReporter(Properties properties) {
            return new StateEntriesReporter();
        }
    }

    @Override
    public void open(MetricConfig config) {}

    @Override
    public void close() {
        report();
    }

    @Override
    public void notifyOfAddedMetric(Metric metric, String name, MetricGroup group) {
        if (name.equals("state_entries") && metric instanceof Gauge) {
            LIVE.put(key(group), (Gauge<?>) metric);
        }
    }

    @Override
    public void notifyOfRemovedMetric(Metric metric, String name, MetricGroup group) {
        if (name.equals("state_entries") && metric instanceof Gauge) {
            String key = key(group);
            read(key, (Gauge<?>) metric);
            LIVE.remove(key);
        }
    }

    @Override
    public void report() {
        LIVE.forEach(StateEntriesReporter::read);
    }

    private static void read(String key, Gauge<?> gauge) {
        Object value = gauge.getValue();
        if (value instanceof Number) {
            long v = ((Number) value).longValue();
            LAST.put(key, v);
            PEAK.merge(key, v, Math::max);
        }
    }

    /** The operator (the last scope component: its uid) and the subtask index. */
    private static String key(MetricGroup group) {
        String[] scope = group.getScopeComponents();
        return scope[scope.length - 1] + "#" + group.getAllVariables().get("<subtask_index>");
    }

    /** Waits (at most timeoutMillis) until every gauge has been read after its task ended. */
    public static Map<String, Long> finalValues(long timeoutMillis) throws InterruptedException {
        long end = System.currentTimeMillis() + timeoutMillis;
        while (!LIVE.isEmpty() && System.currentTimeMillis() < end) {
            Thread.sleep(20);
        }
        LIVE.forEach(StateEntriesReporter::read);
        return new TreeMap<>(LAST);
    }

    /** Forgets every value read so far (before the next job of the same JVM). */
    public static void reset() {
        LAST.clear();
        PEAK.clear();
    }

    public static boolean allEnded() {
        return LIVE.isEmpty();
    }

    public static Map<String, Long> peaks() {
        return new TreeMap<>(PEAK);
    }
}
