package nexflow.runtime;

import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.java.functions.KeySelector;
import org.apache.flink.streaming.api.windowing.triggers.Trigger;
import org.apache.flink.streaming.api.windowing.triggers.TriggerResult;
import org.apache.flink.streaming.api.windowing.windows.Window;

/**
 * A window's own trigger (fires exactly as {@code inner} does) that also counts the windows this
 * subtask holds state for in {@code counts}, behind the gauge {@code state_entries} of the window
 * operator (see {@link StateCounts}).
 *
 * <p>A window counts from its first record until Flink purges it (the watermark passes its end
 * plus the allowed lateness) or merges it into another (sessions): Flink calls {@link #clear}
 * then. A per-window value remembers that it was counted and under which key group (a trigger
 * does not see the key: it is computed from the window's first record by {@code key}, the
 * operator's own key selector); it is cleared with the window's own state, so it needs no TTL of
 * its own.
 *
 * <p>{@code counts} must be the very instance the window function holds (the function restores
 * and snapshots it as a {@code CheckpointedFunction}): the trigger and the function travel to the
 * task in one serialized window operator, so the shared reference stays shared there.
 */
public final class CountingTrigger<T, W extends Window> extends Trigger<T, W> {
    private static final long serialVersionUID = 1L;
    // A new name: "$counted" (a flag) was kept by versions whose count did not survive a restore.
    private static final ValueStateDescriptor<Integer> COUNTED =
            new ValueStateDescriptor<>("$counted_key_group", Types.INT);

    private final Trigger<? super T, W> inner;
    private final StateCounts counts;
    private final KeySelector<T, ?> key;

    public CountingTrigger(Trigger<? super T, W> inner, StateCounts counts, KeySelector<T, ?> key) {
        this.inner = inner;
        this.counts = counts;
        this.key = key;
    }

    @Override
    public TriggerResult onElement(T element, long timestamp, W window, TriggerContext ctx) throws Exception {
        ValueState<Integer> counted = ctx.getPartitionedState(COUNTED);
        if (counted.value() == null) {
            int keyGroup = counts.keyGroup(key.getKey(element));
            counted.update(keyGroup);
            counts.addedTo(keyGroup);
        }
        return inner.onElement(element, timestamp, window, ctx);
    }

    @Override
    public TriggerResult onProcessingTime(long time, W window, TriggerContext ctx) throws Exception {
        return inner.onProcessingTime(time, window, ctx);
    }

    @Override
    public TriggerResult onEventTime(long time, W window, TriggerContext ctx) throws Exception {
        return inner.onEventTime(time, window, ctx);
    }

    @Override
    public boolean canMerge() {
        return inner.canMerge();
    }

    @Override
    public void onMerge(W window, OnMergeContext ctx) throws Exception {
        // The merged windows are cleared (and uncounted) right after this; Flink then hands the
        // record that caused the merge to onElement of the resulting window, which counts it.
        inner.onMerge(window, ctx);
    }

    @Override
    public void clear(W window, TriggerContext ctx) throws Exception {
        ValueState<Integer> counted = ctx.getPartitionedState(COUNTED);
        Integer keyGroup = counted.value();
        if (keyGroup != null) {
            counted.clear();
            counts.removedFrom(keyGroup);
        }
        inner.clear(window, ctx);
    }
}
