package nexflow.runtime;

import java.io.Serializable;
import java.time.Duration;
import java.time.Instant;
import org.apache.flink.api.common.eventtime.SerializableTimestampAssigner;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;

/**
 * Event time: timestamps from a record field, watermarks a fixed delay behind, assigned in the
 * source ({@link #inSource}) so that a Kafka source keeps one watermark per partition and an idle
 * or missing partition does not hold every timer back.
 */
public final class Watermarks {
    private Watermarks() {}

    /**
     * The earliest event time a record may have: 0001-01-01T00:00:00Z. Together with
     * {@link #LATEST} the range of ISO-8601 instants with four-digit years; a time outside it
     * (or one epoch milliseconds cannot hold at all) is never a record's real time, and
     * arithmetic on it (a deadline, a window's end) could overflow.
     */
    public static final long EARLIEST = -62135596800000L;
    /** The latest event time a record may have: 9999-12-31T23:59:59.999Z. */
    public static final long LATEST = 253402300799999L;
    /** {@link Parsed#eventTime} of a record whose event-time field is missing. */
    public static final long NONE = Long.MIN_VALUE;

    /**
     * The event time of a stream: its field's timestamps, watermarks {@code delayMillis} behind;
     * a record's time must lie within {@code aheadMillis} after and {@code behindMillis} before
     * the processing time of the source that reads it (0: no such bound), see {@link #of}.
     */
    public static final class EventTime<T> implements Serializable {
        private static final long serialVersionUID = 1L;

        final String field;
        final long delayMillis;
        final SerializableTimestampAssigner<T> time;
        final long aheadMillis;
        final long behindMillis;

        EventTime(String field, long delayMillis, SerializableTimestampAssigner<T> time, long aheadMillis, long behindMillis) {
            this.field = field;
            this.delayMillis = delayMillis;
            this.time = time;
            this.aheadMillis = aheadMillis;
            this.behindMillis = behindMillis;
        }

        public String field() {
            return field;
        }

        /**
         * This event time with the bounds of a stream's binding ({@code max_event_time_ahead},
         * {@code max_event_time_behind}: {@link StreamBindings#eventTimeAhead},
         * {@link StreamBindings#eventTimeBehind}).
         */
        public EventTime<T> within(Duration ahead, Duration behind) {
            return new EventTime<>(field, delayMillis, time, ahead.toMillis(), behind.toMillis());
        }

        /**
         * The event time of {@code record} in epoch milliseconds ({@link #NONE} when its field is
         * missing), checked: a time epoch milliseconds cannot hold, outside
         * [{@link #EARLIEST}, {@link #LATEST}], more than {@code aheadMillis} after or more than
         * {@code behindMillis} before {@code now} is a {@link NexflowDataException} with reason
         * EVENT_TIME_OUT_OF_RANGE (the record becomes a dead letter in the source: it never
         * reaches the timestamp assigner, so it can neither fail the source nor move the
         * watermark). The message names the field and the bound, not the value (the dead
         * letter's masked input has it).
         */
        public long of(T record, long now) {
            long t;
            try {
                t = time.extractTimestamp(record, NONE);
            } catch (ArithmeticException e) {
                throw outOfRange("is beyond what epoch milliseconds can hold");
            }
            if (t == NONE) {
                return NONE;
            }
            if (t < EARLIEST || t > LATEST) {
                throw outOfRange("is outside the years 0001 to 9999");
            }
            if (aheadMillis > 0 && t > now && t - now > aheadMillis) {
                throw outOfRange("is more than " + aheadMillis + " ms ahead of the processing time (max_event_time_ahead)");
            }
            if (behindMillis > 0 && t < now && now - t > behindMillis) {
                throw outOfRange("is more than " + behindMillis + " ms behind the processing time (max_event_time_behind)");
            }
            return t;
        }

        private NexflowDataException outOfRange(String why) {
            return new NexflowDataException("EVENT_TIME_OUT_OF_RANGE", "the event time (field " + field + ") " + why);
        }
    }

    /**
     * Event time from {@code field} (read by {@code time}), watermarks {@code delayMillis} behind,
     * and the default bounds ({@link StreamBindings#DEFAULT_EVENT_TIME_AHEAD}, none behind) until
     * a source gives it its stream's ({@link EventTime#within}).
     */
    public static <T> EventTime<T> field(String field, long delayMillis, SerializableTimestampAssigner<T> time) {
        return new EventTime<>(field, delayMillis, time, StreamBindings.DEFAULT_EVENT_TIME_AHEAD.toMillis(), 0L);
    }

    /**
     * The strategy a source assigns event time with ({@code env.fromSource(source, strategy, ...)}):
     * Flink then runs one watermark generator per split (per Kafka partition) and the source's
     * watermark is the smallest of them, so a lagging partition's records are not late because
     * another partition ran ahead. A split (or a whole source subtask, such as one without
     * partitions when a topic has fewer partitions than the source's parallelism) that has sent
     * nothing for {@code idle} is marked idle and no longer holds the watermark back, until it
     * sends again; {@code Duration.ZERO} disables idleness. A dead letter or a skipped input has
     * no event time and does not move the watermark. The timestamp of a record is the one its
     * source checked when it decoded it ({@link Parsed#eventTime}, see {@link EventTime#of}): a
     * record whose time is out of range is a dead letter by then, so no single record can throw
     * here or push the watermark years ahead. A record without a time (its field missing) takes
     * the previous record's. {@code time} null: no event time.
     */
    public static <T> WatermarkStrategy<Parsed<T>> inSource(EventTime<T> time, Duration idle) {
        if (time == null) {
            return WatermarkStrategy.noWatermarks();
        }
        WatermarkStrategy<Parsed<T>> base = time.delayMillis <= 0
                ? WatermarkStrategy.forMonotonousTimestamps()
                : WatermarkStrategy.forBoundedOutOfOrderness(Duration.ofMillis(time.delayMillis));
        WatermarkStrategy<Parsed<T>> strategy = base.withTimestampAssigner(
                (parsed, previous) -> parsed.record == null ? Long.MIN_VALUE
                        : parsed.eventTime == NONE ? previous : parsed.eventTime);
        return idle.isZero() || idle.isNegative() ? strategy : strategy.withIdleness(idle);
    }

    /** Epoch milliseconds of a datetime field, or {@code fallback} when it is missing. */
    public static long millis(Instant time, long fallback) {
        return time == null ? fallback : time.toEpochMilli();
    }

    /** Epoch milliseconds of a long field, or {@code fallback} when it is missing. */
    public static long millis(Long time, long fallback) {
        return time == null ? fallback : time;
    }
}
