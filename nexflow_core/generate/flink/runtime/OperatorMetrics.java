package nexflow.runtime;

import java.util.Map;
import java.util.TreeMap;
import org.apache.flink.api.common.functions.RuntimeContext;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.Histogram;
import org.apache.flink.metrics.MetricGroup;
import org.apache.flink.runtime.metrics.DescriptiveStatisticsHistogram;

/**
 * The metrics every generated operator reports, under {@code nexflow.operator.<name>}: records in
 * and out (throughput), dead letters, errors by classification and reason, and processing latency
 * in microseconds (a histogram: p50/p99 in any Flink metrics reporter). Keyed operators that
 * hold state of their own also report the gauge {@code state_entries} in {@link #group()}: see
 * {@link StateCounts}.
 */
public final class OperatorMetrics implements ErrorCounter {
    private final MetricGroup group;
    private final Counter recordsIn;
    private final Counter recordsOut;
    private final Counter deadLetters;
    private final Histogram latencyMicros;
    private final Map<String, Counter> errors = new TreeMap<>();
    private final Map<String, Counter> events = new TreeMap<>();

    private OperatorMetrics(MetricGroup group) {
        this.group = group;
        this.recordsIn = group.counter("records_in");
        this.recordsOut = group.counter("records_out");
        this.deadLetters = group.counter("dead_letters");
        this.latencyMicros = group.histogram("latency_us", new DescriptiveStatisticsHistogram(1024));
    }

    public static OperatorMetrics register(RuntimeContext context, String operator) {
        return new OperatorMetrics(
                context.getMetricGroup().addGroup("nexflow").addGroup("operator", operator));
    }

    public MetricGroup group() {
        return group;
    }

    public long start() {
        recordsIn.inc();
        return System.nanoTime();
    }

    public void emitted(long startNanos) {
        recordsOut.inc();
        latencyMicros.update((System.nanoTime() - startNanos) / 1000L);
    }

    /** Counts an outcome by name: flagged, rejected, routed, timeout, duplicate, ... */
    public void count(String event) {
        events.computeIfAbsent(event, group::counter).inc();
    }

    @Override
    public void error(String classification, String reason) {
        errors.computeIfAbsent(
                        classification + "." + reason,
                        k -> group.addGroup("error_class", classification).addGroup("reason", reason).counter("errors"))
                .inc();
        if (Errors.RECOVERABLE.equals(classification)) {
            deadLetters.inc();
        }
    }
}
