package nexflow.runtime;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * What a ruleset decided about one record: the rules that fired (in firing order), flags for
 * review, the first rejection and the first route, alerts, and the record (a copy when a rule
 * set a field). Plain Java: usable from unit tests without Flink.
 */
public final class RuleOutcome<T> implements Serializable {
    private static final long serialVersionUID = 1L;

    /** One `emit alert` of a fired rule. */
    public static final class Alert implements Serializable {
        private static final long serialVersionUID = 1L;

        public final String rule;
        public final String message;
        public final String severity;

        public Alert(String rule, String message, String severity) {
            this.rule = rule;
            this.message = message;
            this.severity = severity;
        }

        @Override
        public String toString() {
            return rule + ": " + message + (severity == null ? "" : " (" + severity + ")");
        }
    }

    /**
     * The outcome as a plain value, what {@code apply <ruleset> rules as <name>} binds: its
     * fields are the names a proc reads ({@code name.flagged}, {@code name.reason}, ...).
     */
    public static final class Result implements Serializable {
        private static final long serialVersionUID = 1L;

        public Boolean flagged;
        public Boolean rejected;
        public String reason;
        public String route;
        public List<String> alerts;
        public List<String> fired;

        public Result() {}

        @Override
        public String toString() {
            return "{flagged=" + flagged + ", rejected=" + rejected + ", reason=" + reason + ", route=" + route
                    + ", alerts=" + alerts + ", fired=" + fired + "}";
        }
    }

    private T record;
    private final List<String> fired = new ArrayList<>();
    private final List<String> flags = new ArrayList<>();
    private final List<Alert> alerts = new ArrayList<>();
    private String rejectedBy;
    private String rejectReason;
    private String route;

    public RuleOutcome(T record) {
        this.record = record;
    }

    public void fired(String rule) {
        fired.add(rule);
    }

    public void flag(String rule, String reason) {
        flags.add(reason == null ? rule : reason);
    }

    public void reject(String rule, String reason) {
        if (rejectedBy == null) {
            rejectedBy = rule;
            rejectReason = reason;
        }
    }

    public void route(String label) {
        if (route == null) {
            route = label;
        }
    }

    public void alert(String rule, String message, String severity) {
        alerts.add(new Alert(rule, message, severity));
    }

    public void record(T record) {
        this.record = record;
    }

    public T record() {
        return record;
    }

    public List<String> firedRules() {
        return Collections.unmodifiableList(fired);
    }

    public boolean flagged() {
        return !flags.isEmpty();
    }

    /** The flag reasons (a rule's name when `flag_for_review` gives none). */
    public List<String> flags() {
        return Collections.unmodifiableList(flags);
    }

    public boolean rejected() {
        return rejectedBy != null;
    }

    public String rejectedBy() {
        return rejectedBy;
    }

    public String rejectReason() {
        return rejectReason;
    }

    /** The first route label a fired rule chose, or null. */
    public String route() {
        return route;
    }

    public List<Alert> alerts() {
        return Collections.unmodifiableList(alerts);
    }

    /** The outcome as a {@link Result}: the reason is the rejection's, else the first flag's. */
    public Result result() {
        Result out = new Result();
        out.flagged = flagged();
        out.rejected = rejected();
        out.reason = rejectReason != null ? rejectReason : flags.isEmpty() ? null : flags.get(0);
        out.route = route;
        out.alerts = new ArrayList<>();
        for (Alert a : alerts) {
            out.alerts.add(a.message);
        }
        out.fired = new ArrayList<>(fired);
        return out;
    }

    @Override
    public String toString() {
        return "fired=" + fired + " flags=" + flags + " rejected=" + rejectReason + " route=" + route
                + " alerts=" + alerts;
    }
}
