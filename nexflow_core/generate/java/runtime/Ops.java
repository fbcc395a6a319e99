package nexflow.runtime;

import java.math.BigDecimal;
import java.math.RoundingMode;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;
import java.util.function.Function;

/**
 * The operators of the DSL's expression language. Generated code converts both operands of an
 * operation to one type first (the generator's {@code Convert}), so each operator has one
 * overload per type. The rules (docs/language/expressions.md, "Null and number rules"):
 *
 * <ul>
 *   <li>arithmetic with a null operand is null;
 *   <li>a comparison, {@code in} or {@code not in} with a null side is false;
 *       {@code and}/{@code or}/{@code not} and every condition count null as false;
 *   <li>whole numbers: overflow is an error ({@link ArithmeticException}), never a wrap-around;
 *   <li>decimals: {@code + - * %} are exact; {@code /} rounds {@link RoundingMode#HALF_EVEN} to
 *       the quotient's scale; storing into {@code decimal(p,s)} rounds HALF_EVEN to {@code s}
 *       and fails when the digits left of the point exceed {@code p - s} ({@link #fit});
 *   <li>division or remainder by zero is an error for whole numbers and decimals (IEEE rules for
 *       doubles); {@code %} takes the sign of the dividend;
 *   <li>a date meets a datetime as the start of its day in UTC.
 * </ul>
 *
 * Errors are data errors: the event goes to the dead-letter output (see {@link Errors}).
 */
public final class Ops {
    /** Rounding of every inexact decimal operation: banker's rounding, as in IEEE 754. */
    public static final RoundingMode ROUNDING = RoundingMode.HALF_EVEN;

    private Ops() {}

    // --- truth -------------------------------------------------------------------------------

    public static boolean isTrue(boolean value) {
        return value;
    }

    public static boolean isTrue(Boolean value) {
        return value != null && value;
    }

    /** {@code f(value)}, or null when {@code value} is null: a null-safe field access. */
    public static <A, B> B nav(A value, Function<A, B> f) {
        return value == null ? null : f.apply(value);
    }

    // --- comparison --------------------------------------------------------------------------

    public static <T extends Comparable<? super T>> boolean lt(T left, T right) {
        return left != null && right != null && left.compareTo(right) < 0;
    }

    public static <T extends Comparable<? super T>> boolean le(T left, T right) {
        return left != null && right != null && left.compareTo(right) <= 0;
    }

    public static <T extends Comparable<? super T>> boolean gt(T left, T right) {
        return left != null && right != null && left.compareTo(right) > 0;
    }

    public static <T extends Comparable<? super T>> boolean ge(T left, T right) {
        return left != null && right != null && left.compareTo(right) >= 0;
    }

    /** Equality by value; decimals compare by value whatever their scale (1.0 == 1.00). */
    public static boolean eq(Object left, Object right) {
        if (left == null || right == null) {
            return false;
        }
        return same(left, right);
    }

    public static boolean ne(Object left, Object right) {
        return left != null && right != null && !same(left, right);
    }

    static boolean same(Object left, Object right) {
        if (left instanceof BigDecimal && right instanceof BigDecimal) {
            return ((BigDecimal) left).compareTo((BigDecimal) right) == 0;
        }
        if (left instanceof byte[] && right instanceof byte[]) {
            return Arrays.equals((byte[]) left, (byte[]) right);
        }
        return left.equals(right);
    }

    /** {@code value in items}: false when the value (or the list) is null. */
    public static boolean in(Object value, Collection<?> items) {
        if (value == null || items == null) {
            return false;
        }
        for (Object item : items) {
            if (item != null && same(value, item)) {
                return true;
            }
        }
        return false;
    }

    /** {@code value not in items}: also false when the value (or the list) is null. */
    public static boolean notIn(Object value, Collection<?> items) {
        return value != null && items != null && !in(value, items);
    }

    // --- whole numbers -----------------------------------------------------------------------

    public static Integer add(Integer a, Integer b) {
        return a == null || b == null ? null : Math.addExact(a, b);
    }

    public static Integer sub(Integer a, Integer b) {
        return a == null || b == null ? null : Math.subtractExact(a, b);
    }

    public static Integer mul(Integer a, Integer b) {
        return a == null || b == null ? null : Math.multiplyExact(a, b);
    }

    public static Integer mod(Integer a, Integer b) {
        return a == null || b == null ? null : a % b;
    }

    public static Integer neg(Integer a) {
        return a == null ? null : Math.negateExact(a);
    }

    public static Long add(Long a, Long b) {
        return a == null || b == null ? null : Math.addExact(a, b);
    }

    public static Long sub(Long a, Long b) {
        return a == null || b == null ? null : Math.subtractExact(a, b);
    }

    public static Long mul(Long a, Long b) {
        return a == null || b == null ? null : Math.multiplyExact(a, b);
    }

    public static Long mod(Long a, Long b) {
        return a == null || b == null ? null : a % b;
    }

    public static Long neg(Long a) {
        return a == null ? null : Math.negateExact(a);
    }

    // --- doubles (IEEE 754) ------------------------------------------------------------------

    public static Double add(Double a, Double b) {
        return a == null || b == null ? null : a + b;
    }

    public static Double sub(Double a, Double b) {
        return a == null || b == null ? null : a - b;
    }

    public static Double mul(Double a, Double b) {
        return a == null || b == null ? null : a * b;
    }

    public static Double div(Double a, Double b) {
        return a == null || b == null ? null : a / b;
    }

    public static Double mod(Double a, Double b) {
        return a == null || b == null ? null : a % b;
    }

    public static Double neg(Double a) {
        return a == null ? null : -a;
    }

    // --- decimals ----------------------------------------------------------------------------

    public static BigDecimal add(BigDecimal a, BigDecimal b) {
        return a == null || b == null ? null : a.add(b);
    }

    public static BigDecimal sub(BigDecimal a, BigDecimal b) {
        return a == null || b == null ? null : a.subtract(b);
    }

    public static BigDecimal mul(BigDecimal a, BigDecimal b) {
        return a == null || b == null ? null : a.multiply(b);
    }

    /** {@code a / b} rounded half-even to {@code scale} digits after the point. */
    public static BigDecimal div(BigDecimal a, BigDecimal b, int scale) {
        return a == null || b == null ? null : a.divide(b, scale, ROUNDING);
    }

    public static BigDecimal mod(BigDecimal a, BigDecimal b) {
        return a == null || b == null ? null : a.remainder(b);
    }

    public static BigDecimal neg(BigDecimal a) {
        return a == null ? null : a.negate();
    }

    /**
     * {@code value} as a {@code decimal(precision, scale)}: rounded half-even to the scale; a value
     * whose integer digits do not fit is an error (never silently truncated).
     */
    public static BigDecimal fit(BigDecimal value, int precision, int scale) {
        if (value == null) {
            return null;
        }
        BigDecimal out = value.setScale(scale, ROUNDING);
        if (out.precision() - out.scale() > precision - scale && out.signum() != 0) {
            throw new NexflowDataException(
                    "DECIMAL_OVERFLOW",
                    "a value with " + (value.precision() - value.scale()) + " whole digits does not fit decimal("
                            + precision + "," + scale + ")");
        }
        return out;
    }

    // --- text --------------------------------------------------------------------------------

    public static String add(String a, String b) {
        return a == null || b == null ? null : a + b;
    }

    // --- time --------------------------------------------------------------------------------

    public static Instant add(Instant a, Duration b) {
        return a == null || b == null ? null : a.plus(b);
    }

    public static Instant sub(Instant a, Duration b) {
        return a == null || b == null ? null : a.minus(b);
    }

    public static Duration sub(Instant a, Instant b) {
        return a == null || b == null ? null : Duration.between(b, a);
    }

    /** A date plus a duration moves by the duration's whole days. */
    public static LocalDate add(LocalDate a, Duration b) {
        return a == null || b == null ? null : a.plusDays(b.toDays());
    }

    public static LocalDate sub(LocalDate a, Duration b) {
        return a == null || b == null ? null : a.minusDays(b.toDays());
    }

    public static Duration add(Duration a, Duration b) {
        return a == null || b == null ? null : a.plus(b);
    }

    public static Duration sub(Duration a, Duration b) {
        return a == null || b == null ? null : a.minus(b);
    }

    public static Duration mul(Duration a, Number b) {
        return a == null || b == null ? null : a.multipliedBy(b.longValue());
    }

    public static Duration div(Duration a, Number b) {
        return a == null || b == null ? null : a.dividedBy(b.longValue());
    }

    public static Duration neg(Duration a) {
        return a == null ? null : a.negated();
    }

    // --- conversions (the generator's Convert) -----------------------------------------------

    public static Long toLong(Number value) {
        return value == null ? null : value.longValue();
    }

    public static Double toDouble(Number value) {
        return value == null ? null : value.doubleValue();
    }

    public static BigDecimal toDecimal(Number value) {
        if (value == null) {
            return null;
        }
        if (value instanceof BigDecimal) {
            return (BigDecimal) value;
        }
        return BigDecimal.valueOf(value.longValue());
    }

    public static Instant toDatetime(LocalDate value) {
        return value == null ? null : value.atStartOfDay(ZoneOffset.UTC).toInstant();
    }

    public static String name(Enum<?> value) {
        return value == null ? null : value.name();
    }

    public static List<Long> toLongList(List<? extends Number> values) {
        return mapList(values, Ops::toLong);
    }

    public static List<Double> toDoubleList(List<? extends Number> values) {
        return mapList(values, Ops::toDouble);
    }

    public static List<BigDecimal> toDecimalList(List<? extends Number> values) {
        return mapList(values, Ops::toDecimal);
    }

    public static List<Instant> toDatetimeList(List<LocalDate> values) {
        return mapList(values, Ops::toDatetime);
    }

    private static <A, B> List<B> mapList(List<? extends A> values, Function<A, B> f) {
        if (values == null) {
            return null;
        }
        List<B> out = new ArrayList<>(values.size());
        for (A value : values) {
            out.add(f.apply(value));
        }
        return out;
    }
}
