package nexflow.runtime;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;
import org.apache.flink.api.common.TaskInfo;
import org.apache.flink.api.common.functions.RuntimeContext;
import org.apache.flink.api.common.state.ListState;
import org.apache.flink.api.common.state.ListStateDescriptor;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.java.tuple.Tuple2;
import org.apache.flink.metrics.Gauge;
import org.apache.flink.metrics.MetricGroup;
import org.apache.flink.runtime.state.FunctionInitializationContext;
import org.apache.flink.runtime.state.KeyGroupRange;
import org.apache.flink.runtime.state.KeyGroupRangeAssignment;

/**
 * The {@code state_entries} gauge of a keyed operator (see {@link OperatorMetrics}): the number
 * of entries (keys, waiting records, windows) this subtask holds state for, kept so that it
 * survives a restore and a change of parallelism.
 *
 * <p>The entries live in keyed state, which Flink restores and redistributes by key group; a
 * plain counter in the operator would restart at 0 after a restore. So the count is kept per
 * key group, and each checkpoint stores the (key group, count) pairs of this subtask as union
 * operator state: on restore every subtask receives all pairs and adds up those of the key
 * groups Flink assigns to it, which are exactly the key groups whose keyed state it receives.
 *
 * <p>The generated function owns one instance and forwards {@code initializeState} and
 * {@code snapshotState} of {@code CheckpointedFunction} to it. A key's group is computed only
 * when an entry is added or removed, never per record.
 */
public final class StateCounts implements Serializable {
    private static final long serialVersionUID = 1L;
    // "$": no DSL name contains it, so it never meets a state the proc declares.
    private static final String STATE = "$state_entries";

    private transient int maxParallelism;
    private transient KeyGroupRange range;
    /** Entries per key group of {@link #range} (index: key group minus its first). */
    private transient long[] counts;
    // Written by the task thread only, read by reporters.
    private transient volatile long total;
    private transient ListState<Tuple2<Integer, Long>> stored;
    private transient boolean reported;
    /** The key of the last add or remove and its key group (the same key object: no rehash). */
    private transient Object lastKey;
    private transient int lastKeyGroup;

    /** From the function's {@code initializeState} (before {@code open}): restores the counts. */
    public void initialize(FunctionInitializationContext context, RuntimeContext runtime) throws Exception {
        TaskInfo task = runtime.getTaskInfo();
        maxParallelism = task.getMaxNumberOfParallelSubtasks();
        range = KeyGroupRangeAssignment.computeKeyGroupRangeForOperatorIndex(
                maxParallelism, task.getNumberOfParallelSubtasks(), task.getIndexOfThisSubtask());
        counts = new long[range.getNumberOfKeyGroups()];
        total = 0L;
        lastKey = null;
        stored = context.getOperatorStateStore().getUnionListState(
                new ListStateDescriptor<>(STATE, Types.TUPLE(Types.INT, Types.LONG)));
        if (!context.isRestored()) {
            return;
        }
        long sum = 0L;
        for (Tuple2<Integer, Long> entry : stored.get()) {
            if (range.contains(entry.f0)) {
                counts[entry.f0 - range.getStartKeyGroup()] += entry.f1;
                sum += entry.f1;
            }
        }
        total = sum;
    }

    /** From the function's {@code snapshotState}: stores the non-zero counts of this subtask. */
    public void snapshot() throws Exception {
        List<Tuple2<Integer, Long>> pairs = new ArrayList<>();
        for (int i = 0; i < counts.length; i++) {
            if (counts[i] != 0L) {
                pairs.add(Tuple2.of(range.getStartKeyGroup() + i, counts[i]));
            }
        }
        stored.update(pairs);
    }

    /** Reports the gauge {@code state_entries} in {@code group} (the operator's; once, from open). */
    public void report(MetricGroup group) {
        if (!reported) {
            reported = true;
            group.gauge("state_entries", (Gauge<Long>) () -> total);
        }
    }

    /** The key group of {@code key} (the key the operator is keyed by, as Flink sees it). */
    public int keyGroup(Object key) {
        if (key != lastKey) {
            lastKeyGroup = KeyGroupRangeAssignment.assignToKeyGroup(key, maxParallelism);
            lastKey = key;
        }
        return lastKeyGroup;
    }

    /** An entry of {@code key} (the current key) now holds state. */
    public void added(Object key) {
        change(keyGroup(key), 1L);
    }

    /** An entry of {@code key} (the current key) no longer holds state. */
    public void removed(Object key) {
        change(keyGroup(key), -1L);
    }

    /** An entry of key group {@code keyGroup} now holds state (not named added: a boxed key group is a key). */
    public void addedTo(int keyGroup) {
        change(keyGroup, 1L);
    }

    /** An entry of key group {@code keyGroup} no longer holds state. */
    public void removedFrom(int keyGroup) {
        change(keyGroup, -1L);
    }

    private void change(int keyGroup, long delta) {
        if (counts == null) {
            throw new IllegalStateException("StateCounts used before initializeState: the function "
                    + "holding it must forward CheckpointedFunction.initializeState to it");
        }
        counts[keyGroup - range.getStartKeyGroup()] += delta;
        total = total + delta;
    }
}
