package nexflow.runtime;

import java.io.IOException;
import org.apache.flink.api.common.functions.RuntimeContext;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.streaming.api.TimerService;

/**
 * Counts the keys whose state lives only by its TTL (keyed {@code state}, {@code rolling},
 * deduplication) in the {@link StateCounts} behind the {@code state_entries} gauge.
 *
 * <p>TTL expiry happens silently inside Flink, so each such key also keeps the time its last
 * written state expires, and one processing-time timer per key ends the count when that time
 * passes (the timer clears that record, so it needs no TTL of its own). The time kept is
 * rounded up to a sixteenth of the TTL: the record is then rewritten once per sixteenth of the
 * TTL instead of at every write, and a key stops counting at most that long after its state
 * expired (never before). The record and the timers are keyed state: a restored key keeps
 * counting (its count comes back through {@link StateCounts}) until its restored timer ends it.
 */
public final class StateEntries {
    private static final int STEPS_PER_TTL = 16;

    private final ValueState<Long> expires;
    private final StateCounts counts;
    /** The key of the last write and its expiry then (the same key object: the same record). */
    private Object lastKey;
    private Long lastExpires;

    private StateEntries(ValueState<Long> expires, StateCounts counts) {
        this.expires = expires;
        this.counts = counts;
    }

    /**
     * For an operator whose states all live by TTL (from open; {@code counts} is the function's,
     * already initialized by its {@code initializeState}).
     */
    public static StateEntries register(RuntimeContext context, OperatorMetrics metrics, StateCounts counts) {
        // "$expires": no DSL name contains '$', so it never meets a state the proc declares.
        ValueStateDescriptor<Long> descriptor = new ValueStateDescriptor<>("$expires", Types.LONG);
        counts.report(metrics.group());
        return new StateEntries(context.getState(descriptor), counts);
    }

    /**
     * The current key's state was written and lives {@code ttlMillis} from now. {@code key} is
     * the current key: an operator that writes several states for one record asks the keyed
     * state for the key's expiry once, not once per state.
     */
    public void written(Object key, TimerService timers, long ttlMillis) throws IOException {
        long step = Math.max(1L, ttlMillis / STEPS_PER_TTL);
        long due = (timers.currentProcessingTime() + ttlMillis + step - 1) / step * step;
        Long current = key == lastKey ? lastExpires : expires.value();
        if (current == null) {
            counts.added(key);
            timers.registerProcessingTimeTimer(due);
        }
        if (current == null || due > current) {
            expires.update(due);
            current = due;
        }
        lastKey = key;
        lastExpires = current;
    }

    /**
     * A processing-time timer of the current key ({@code key}) fired: the key stops counting if
     * all its state has expired, else the timer moves to the new expiry time.
     */
    public void onTimer(Object key, TimerService timers, long timestamp) throws IOException {
        lastKey = null;
        Long current = expires.value();
        if (current == null) {
            return;
        }
        if (current > timestamp) {
            timers.registerProcessingTimeTimer(current);
            return;
        }
        expires.clear();
        counts.removed(key);
    }
}
