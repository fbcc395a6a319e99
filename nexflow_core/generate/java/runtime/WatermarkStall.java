package nexflow.runtime;

import java.time.Duration;

/**
 * The processing-time backstop of an event-time wait (a correlation's timeout). Idleness lets
 * the watermark go on while some partition still moves; when every input of the operator is
 * idle (its own topic and its partner's both quiet) the watermark stops, and a record waiting
 * for it would wait for ever. A wait therefore also ends on processing time once the watermark
 * has not moved for {@link #afterMillis}: the wait's duration plus the inputs' idle timeout
 * (the time the watermark would need to pass the deadline, plus the time an input needs to be
 * found idle).
 *
 * <p>One per operator instance (not keyed state): it remembers the watermark it last saw and
 * when, in processing time, that watermark last changed. The operator shows it the watermark at
 * every call ({@link #observe}). After a restart it starts afresh (the watermark is then unknown
 * and counts as moved at start-up), which only delays a backstop.
 */
public final class WatermarkStall implements java.io.Serializable {
    private static final long serialVersionUID = 1L;
    /** Backstop timers are rounded up to this, so the waits of a key share one timer. */
    private static final long GRANULARITY_MILLIS = 1000L;

    private final long afterMillis;
    private transient long watermark;
    private transient long since;
    private transient boolean started;

    /** A stall of {@code within} (the wait's duration) plus {@code idle} (the inputs' idle timeout). */
    public WatermarkStall(long withinMillis, Duration idle) {
        this.afterMillis = withinMillis + Math.max(0L, idle.toMillis());
    }

    /** How long the watermark must stand still before a waiting record times out on processing time. */
    public long afterMillis() {
        return afterMillis;
    }

    /** The operator's watermark at processing time {@code now}. */
    public void observe(long currentWatermark, long now) {
        if (!started || currentWatermark != watermark) {
            started = true;
            watermark = currentWatermark;
            since = now;
        }
    }

    /**
     * Whether a wait that began at processing time {@code arrived} is over by processing time
     * {@code now}: it has lasted {@link #afterMillis} and the watermark has not moved for as long.
     */
    public boolean over(long arrived, long now) {
        return now - arrived >= afterMillis && now - since >= afterMillis;
    }

    /**
     * When to look again at a wait that began at {@code arrived}, at processing time {@code now}
     * (a processing-time timer): when it could be over, or sooner, one {@link #step} from now.
     * The watermark is only seen when the operator is called, so a change is noticed at the next
     * call: looking every step bounds how late a standstill is noticed (by a step, not by a whole
     * {@link #afterMillis}) at the cost of a few timers per long wait.
     */
    public long next(long arrived, long now) {
        long at = Math.min(Math.max(arrived, since) + afterMillis, now + step());
        return (at + GRANULARITY_MILLIS - 1) / GRANULARITY_MILLIS * GRANULARITY_MILLIS;
    }

    /** How often a long wait looks at the watermark: an eighth of {@link #afterMillis}, at least a second. */
    long step() {
        return Math.max(GRANULARITY_MILLIS, afterMillis / 8);
    }
}
