package nexflow.runtime;

import java.math.BigDecimal;
import java.math.RoundingMode;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.time.temporal.TemporalAccessor;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Pattern;

/**
 * The function catalogue of the expression language (docs/language/expressions.md). A null
 * argument gives a null result (coalesce excepted). Text positions and lengths count characters
 * (Unicode code points), not UTF-16 units. Times are in UTC.
 */
public final class Fn {
    private static final Map<String, Pattern> PATTERNS = new ConcurrentHashMap<>();
    private static final Map<String, DateTimeFormatter> FORMATS = new ConcurrentHashMap<>();

    private Fn() {}

    // --- text --------------------------------------------------------------------------------

    public static String upper(String s) {
        return s == null ? null : s.toUpperCase(Locale.ROOT);
    }

    public static String lower(String s) {
        return s == null ? null : s.toLowerCase(Locale.ROOT);
    }

    /** Removes surrounding white space (Java's {@link Character#isWhitespace}). */
    public static String trim(String s) {
        return s == null ? null : s.strip();
    }

    public static Integer length(String s) {
        return s == null ? null : s.codePointCount(0, s.length());
    }

    /** {@code count} characters from {@code start} (0-based), clipped to the text. */
    public static String substring(String s, Integer start, Integer count) {
        if (s == null || start == null || count == null) {
            return null;
        }
        int n = s.codePointCount(0, s.length());
        int from = Math.max(0, Math.min(start, n));
        int to = Math.max(from, (int) Math.min((long) from + Math.max(count, 0), n));
        return s.substring(s.offsetByCodePoints(0, from), s.offsetByCodePoints(0, to));
    }

    public static String concat(String... parts) {
        StringBuilder out = new StringBuilder();
        for (String part : parts) {
            if (part == null) {
                return null;
            }
            out.append(part);
        }
        return out.toString();
    }

    public static Boolean starts_with(String s, String prefix) {
        return s == null || prefix == null ? null : s.startsWith(prefix);
    }

    public static Boolean ends_with(String s, String suffix) {
        return s == null || suffix == null ? null : s.endsWith(suffix);
    }

    /** Replaces every occurrence of {@code find} (plain text, not a pattern). */
    public static String replace(String s, String find, String with) {
        return s == null || find == null || with == null ? null : s.replace(find, with);
    }

    /** Does the whole text match the regular expression? */
    public static Boolean matches(String s, String regex) {
        if (s == null || regex == null) {
            return null;
        }
        return PATTERNS.computeIfAbsent(regex, Pattern::compile).matcher(s).matches();
    }

    /** Every character but the last {@code keepLast} replaced by '*'. */
    public static String mask(String s, Integer keepLast) {
        if (s == null || keepLast == null) {
            return null;
        }
        int n = s.codePointCount(0, s.length());
        int keep = Math.max(0, Math.min(keepLast, n));
        return "*".repeat(n - keep) + s.substring(s.offsetByCodePoints(0, n - keep));
    }

    /** Text form: decimals without exponent, times in ISO-8601, enums by name. */
    public static String to_string(Object value) {
        if (value == null) {
            return null;
        }
        if (value instanceof BigDecimal) {
            return ((BigDecimal) value).toPlainString();
        }
        if (value instanceof Enum) {
            return ((Enum<?>) value).name();
        }
        return String.valueOf(value);
    }

    public static Boolean contains(String s, String part) {
        return s == null || part == null ? null : s.contains(part);
    }

    public static Boolean contains(Collection<?> items, Object item) {
        return items == null || item == null ? null : Ops.in(item, items);
    }

    // --- math --------------------------------------------------------------------------------

    public static Integer abs(Integer x) {
        return x == null ? null : Math.absExact(x);
    }

    public static Long abs(Long x) {
        return x == null ? null : Math.absExact(x);
    }

    public static Double abs(Double x) {
        return x == null ? null : Math.abs(x);
    }

    public static BigDecimal abs(BigDecimal x) {
        return x == null ? null : x.abs();
    }

    /** Half-even rounding to a whole number. */
    public static BigDecimal round(BigDecimal x) {
        return x == null ? null : x.setScale(0, Ops.ROUNDING);
    }

    /** Half-even rounding to {@code scale} digits after the point. */
    public static BigDecimal round(BigDecimal x, Integer scale) {
        return x == null || scale == null ? null : x.setScale(scale, Ops.ROUNDING);
    }

    public static Double round(Double x) {
        return x == null ? null : Math.rint(x);
    }

    public static Double round(Double x, Integer scale) {
        if (x == null || scale == null) {
            return null;
        }
        if (x.isNaN() || x.isInfinite()) {
            return x;
        }
        return BigDecimal.valueOf(x).setScale(scale, Ops.ROUNDING).doubleValue();
    }

    public static Integer round(Integer x) {
        return x;
    }

    public static Integer round(Integer x, Integer scale) {
        if (x == null || scale == null) {
            return null;
        }
        return scale >= 0 ? x : BigDecimal.valueOf(x).setScale(scale, Ops.ROUNDING).intValueExact();
    }

    public static Long round(Long x) {
        return x;
    }

    public static Long round(Long x, Integer scale) {
        if (x == null || scale == null) {
            return null;
        }
        return scale >= 0 ? x : BigDecimal.valueOf(x).setScale(scale, Ops.ROUNDING).longValueExact();
    }

    public static BigDecimal floor(BigDecimal x) {
        return x == null ? null : x.setScale(0, RoundingMode.FLOOR);
    }

    public static Double floor(Double x) {
        return x == null ? null : Math.floor(x);
    }

    public static Integer floor(Integer x) {
        return x;
    }

    public static Long floor(Long x) {
        return x;
    }

    public static BigDecimal ceil(BigDecimal x) {
        return x == null ? null : x.setScale(0, RoundingMode.CEILING);
    }

    public static Double ceil(Double x) {
        return x == null ? null : Math.ceil(x);
    }

    public static Integer ceil(Integer x) {
        return x;
    }

    public static Long ceil(Long x) {
        return x;
    }

    /** The smaller value (the first when equal); null when either is null. */
    public static <T extends Comparable<? super T>> T min(T a, T b) {
        return a == null || b == null ? null : (b.compareTo(a) < 0 ? b : a);
    }

    /** The larger value (the first when equal); null when either is null. */
    public static <T extends Comparable<? super T>> T max(T a, T b) {
        return a == null || b == null ? null : (b.compareTo(a) > 0 ? b : a);
    }

    public static Double sqrt(Number x) {
        return x == null ? null : Math.sqrt(x.doubleValue());
    }

    public static Double pow(Number x, Number y) {
        return x == null || y == null ? null : Math.pow(x.doubleValue(), y.doubleValue());
    }

    /** Whole part (toward zero); an out-of-range value or unparsable text is an error. */
    public static Integer to_int(Object x) {
        return x == null ? null : exact(x).toBigInteger().intValueExact();
    }

    public static Long to_long(Object x) {
        return x == null ? null : exact(x).toBigInteger().longValueExact();
    }

    public static Double to_double(Object x) {
        if (x == null) {
            return null;
        }
        if (x instanceof Number) {
            return ((Number) x).doubleValue();
        }
        return Double.parseDouble(((String) x).strip());
    }

    /** An exact decimal with 10 digits after the point (half-even). */
    public static BigDecimal to_decimal(Object x) {
        return x == null ? null : exact(x).setScale(10, Ops.ROUNDING);
    }

    public static BigDecimal to_decimal(Object x, Integer precision, Integer scale) {
        return x == null || precision == null || scale == null
                ? null
                : Ops.fit(exact(x), precision, scale);
    }

    private static BigDecimal exact(Object x) {
        if (x instanceof BigDecimal) {
            return (BigDecimal) x;
        }
        if (x instanceof Integer || x instanceof Long) {
            return BigDecimal.valueOf(((Number) x).longValue());
        }
        if (x instanceof Double) {
            double d = (Double) x;
            if (Double.isNaN(d) || Double.isInfinite(d)) {
                throw new NexflowDataException("NOT_A_NUMBER", "NaN or an infinity has no exact value");
            }
            return BigDecimal.valueOf(d);
        }
        try {
            return new BigDecimal(String.valueOf(x).strip());
        } catch (NumberFormatException e) {
            throw new NexflowDataException("NOT_A_NUMBER", "a text of " + String.valueOf(x).length() + " characters is not a number");
        }
    }

    // --- date and time (UTC) -----------------------------------------------------------------

    public static Instant now() {
        return Instant.now();
    }

    public static LocalDate date_of(Instant t) {
        return t == null ? null : LocalDate.ofInstant(t, ZoneOffset.UTC);
    }

    public static Integer year(LocalDate t) {
        return t == null ? null : t.getYear();
    }

    public static Integer year(Instant t) {
        return t == null ? null : date_of(t).getYear();
    }

    public static Integer month(LocalDate t) {
        return t == null ? null : t.getMonthValue();
    }

    public static Integer month(Instant t) {
        return t == null ? null : date_of(t).getMonthValue();
    }

    public static Integer day(LocalDate t) {
        return t == null ? null : t.getDayOfMonth();
    }

    public static Integer day(Instant t) {
        return t == null ? null : date_of(t).getDayOfMonth();
    }

    public static Integer hour(Instant t) {
        return t == null ? null : t.atOffset(ZoneOffset.UTC).getHour();
    }

    public static Long days_between(LocalDate a, LocalDate b) {
        return a == null || b == null ? null : ChronoUnit.DAYS.between(a, b);
    }

    /** Whole days from a to b (toward zero). */
    public static Long days_between(Instant a, Instant b) {
        return a == null || b == null ? null : Duration.between(a, b).toDays();
    }

    public static Long millis_between(Instant a, Instant b) {
        return a == null || b == null ? null : Duration.between(a, b).toMillis();
    }

    public static String format_datetime(Instant t, String pattern) {
        return t == null || pattern == null ? null : formatter(pattern).format(t);
    }

    public static String format_datetime(LocalDate t, String pattern) {
        return t == null || pattern == null ? null : formatter(pattern).format(t);
    }

    /** Parses a moment; a text without time of day is the start of that day (UTC). */
    public static Instant parse_datetime(String s, String pattern) {
        if (s == null || pattern == null) {
            return null;
        }
        TemporalAccessor parsed = formatter(pattern).parse(s);
        if (parsed.isSupported(java.time.temporal.ChronoField.INSTANT_SECONDS)) {
            return Instant.from(parsed);
        }
        if (parsed.isSupported(java.time.temporal.ChronoField.HOUR_OF_DAY)) {
            return LocalDateTime.from(parsed).toInstant(ZoneOffset.UTC);
        }
        return LocalDate.from(parsed).atStartOfDay(ZoneOffset.UTC).toInstant();
    }

    private static DateTimeFormatter formatter(String pattern) {
        return FORMATS.computeIfAbsent(
                pattern, p -> DateTimeFormatter.ofPattern(p, Locale.ROOT).withZone(ZoneOffset.UTC));
    }

    // --- collections -------------------------------------------------------------------------

    public static Integer size(Collection<?> x) {
        return x == null ? null : x.size();
    }

    public static Integer size(Map<?, ?> x) {
        return x == null ? null : x.size();
    }

    public static Integer size(String x) {
        return x == null ? null : x.codePointCount(0, x.length());
    }

    public static Integer size(byte[] x) {
        return x == null ? null : x.length;
    }

    public static Boolean is_empty(Collection<?> x) {
        return x == null ? null : x.isEmpty();
    }

    public static Boolean is_empty(Map<?, ?> x) {
        return x == null ? null : x.isEmpty();
    }

    public static Boolean is_empty(String x) {
        return x == null ? null : x.isEmpty();
    }

    public static <K, V> V get(Map<K, V> m, K key) {
        return m == null || key == null ? null : m.get(key);
    }

    /** The element at a 0-based index; null when out of range. */
    public static <T> T get(List<T> list, Long index) {
        if (list == null || index == null || index < 0 || index >= list.size()) {
            return null;
        }
        return list.get(index.intValue());
    }

    // --- null handling -----------------------------------------------------------------------

    /** The first value that is not null (every argument is evaluated). */
    @SafeVarargs
    public static <T> T coalesce(T... values) {
        for (T value : values) {
            if (value != null) {
                return value;
            }
        }
        return null;
    }
}
