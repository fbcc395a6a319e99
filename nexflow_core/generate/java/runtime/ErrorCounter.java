package nexflow.runtime;

/**
 * Counts the errors of one operator by classification and reason (a target's metrics: for
 * Flink, {@code OperatorMetrics}), so that {@link Validation#deadLetter} needs no framework.
 */
public interface ErrorCounter {
    void error(String classification, String reason);
}
