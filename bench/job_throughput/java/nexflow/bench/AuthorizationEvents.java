package nexflow.bench;

import java.math.BigDecimal;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * The benchmark's input: {@code count} authorization JSON lines in the format of
 * examples/card-fraud/data/authorizations.jsonl, the same for every seed, and the customer
 * profiles of the cards.
 *
 * <p>The mix: {@code cards} cards, a tenth of them busy (half the traffic); one authorization every
 * 200 ms of event time (18,000 an hour); 5% of the merchants abroad, 8% online, some gambling and
 * quasi-cash merchants; 1 line in 997 malformed (not JSON, a 3-digit MCC, a negative amount, an
 * unknown channel); 1 in 1499 a resend of the line before it; 1 in 50 up to 9 seconds out of order
 * (within the job's one-minute watermark); 1 in 4999 (after the first 20,000) twelve hours late.
 *
 * <p>Two rules keep the three implementations' answers comparable. Every timestamp is distinct
 * per card, so "the hour up to an authorization" holds the same records whether counted in
 * arrival order (the DataStream jobs) or in event-time order (SQL OVER windows); and no card has
 * an authorization in the 46 lines before one of its out-of-order ones, so arrival order and
 * event-time order agree per card.
 */
public final class AuthorizationEvents {
    public static final long BASE_MILLIS = Instant.parse("2026-03-14T00:00:00Z").toEpochMilli();
    static final long SPACING_MILLIS = 200L;

    private static final String[] MCC_STANDARD = {"5411", "5812", "5814", "5541", "5732", "5912", "4112", "5311", "4511", "5999"};
    private static final String[] MCC_GAMBLING = {"7995", "7800", "7801", "7802"};
    private static final String[] MCC_QUASI_CASH = {"4829", "6051", "6540"};
    private static final String[] COUNTRIES = {"US", "US", "US", "DE", "FR", "GB", "CA"};
    private static final String[] ABROAD = {"AE", "MX", "JP", "IT", "ES", "BR"};
    private static final String[] CHANNELS_PRESENT = {"CHIP", "CHIP", "CONTACTLESS", "CONTACTLESS", "MAGSTRIPE", "ATM"};
    private static final String[] CURRENCY = {"USD", "EUR", "EUR", "GBP", "CAD", "AED", "MXN", "JPY", "EUR", "EUR", "BRL"};

    /** The lines, in the order a source hands them out. */
    public final String[] lines;
    /** The line of authorization k (auth_id {@link #authId}(k)): its first occurrence. */
    public final int[] lineOfAuth;
    /** The number of authorizations (distinct auth_ids); malformed lines have none. */
    public final int auths;
    /** Customer profiles as JSON objects (card_id to profile): the input of every lookup. */
    public final Map<String, String> profileJson;
    /** The same profiles as values. */
    public final Map<String, Profile> profiles;

    /** What the issuer knows about a card's holder. */
    public static final class Profile implements java.io.Serializable {
        private static final long serialVersionUID = 1L;
        public final String customerId;
        public final String homeCountry;
        public final BigDecimal typicalSpend;
        public final String travelCountry;
        public final Long travelUntilMillis;

        Profile(String customerId, String homeCountry, BigDecimal typicalSpend, String travelCountry, Long travelUntilMillis) {
            this.customerId = customerId;
            this.homeCountry = homeCountry;
            this.typicalSpend = typicalSpend;
            this.travelCountry = travelCountry;
            this.travelUntilMillis = travelUntilMillis;
        }
    }

    private AuthorizationEvents(String[] lines, int[] lineOfAuth, int auths, Map<String, String> profileJson,
            Map<String, Profile> profiles) {
        this.lines = lines;
        this.lineOfAuth = lineOfAuth;
        this.auths = auths;
        this.profileJson = profileJson;
        this.profiles = profiles;
    }

    public static String authId(int k) {
        return String.format("A%09d", k);
    }

    /** Authorization number of an auth_id this class made ("A000001234" is 1234). */
    public static int authNumber(String authId) {
        return Integer.parseInt(authId.substring(1));
    }

    static String cardId(int c) {
        return String.format("card_%06d", c);
    }

    public static AuthorizationEvents generate(int count, int cards, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        String[] cardCountry = new String[cards];
        Map<String, String> profileJson = new LinkedHashMap<>();
        Map<String, Profile> profiles = new LinkedHashMap<>();
        for (int c = 0; c < cards; c++) {
            cardCountry[c] = COUNTRIES[random.nextInt(COUNTRIES.length)];
            if (random.nextInt(100) < 5) {
                continue; // no profile: UNKNOWN_CARD
            }
            String customer = String.format("CUST-%06d", c);
            BigDecimal typical = BigDecimal.valueOf(2000 + random.nextInt(20000), 2);
            String travelCountry = null;
            Long travelUntil = null;
            if (random.nextInt(100) < 3) {
                travelCountry = ABROAD[random.nextInt(ABROAD.length)];
                travelUntil = BASE_MILLIS + (long) random.nextInt(48) * 3_600_000L;
            }
            Profile p = new Profile(customer, cardCountry[c], typical, travelCountry, travelUntil);
            profiles.put(cardId(c), p);
            StringBuilder json = new StringBuilder()
                    .append("{\"card_id\": \"").append(cardId(c))
                    .append("\", \"customer_id\": \"").append(customer)
                    .append("\", \"home_country\": \"").append(cardCountry[c])
                    .append("\", \"typical_spend\": \"").append(typical.toPlainString()).append('"');
            if (travelCountry != null) {
                json.append(", \"travel_country\": \"").append(travelCountry)
                        .append("\", \"travel_until\": \"").append(Instant.ofEpochMilli(travelUntil)).append('"');
            }
            profileJson.put(cardId(c), json.append('}').toString());
        }

        String[] lines = new String[count];
        int[] lineOfAuth = new int[count];
        int[] lastLineOfCard = new int[cards];
        Arrays.fill(lastLineOfCard, -1_000_000);
        int auths = 0;
        String previousAuthLine = null;
        for (int i = 0; i < count; i++) {
            long nominal = BASE_MILLIS + SPACING_MILLIS * i;
            if (i % 997 == 996) {
                lines[i] = malformed(i / 997, auths);
                previousAuthLine = null;
                continue;
            }
            if (i % 1499 == 1498 && previousAuthLine != null) {
                lines[i] = previousAuthLine; // the network's resend, right after the original
                previousAuthLine = null;
                continue;
            }
            int card = pickCard(random, cards);
            long time = nominal;
            if (i >= 20_000 && i % 4999 == 4998) {
                time = nominal - 12 * 3_600_000L; // late: far behind the watermark
            } else if (i % 50 == 25) {
                for (int attempt = 0; attempt < 20 && lastLineOfCard[card] >= i - 46; attempt++) {
                    card = pickCard(random, cards);
                }
                if (lastLineOfCard[card] < i - 46) {
                    // Out of order by k seconds (and 100 ms, so it ties with no in-order one).
                    long k = 1 + (i / 50) % 9;
                    time = nominal - 1000L * k - 100L;
                }
            }
            lastLineOfCard[card] = i;
            String line = authorization(random, auths, card, cardCountry[card], time);
            lines[i] = line;
            lineOfAuth[auths++] = i;
            previousAuthLine = line;
        }
        return new AuthorizationEvents(lines, Arrays.copyOf(lineOfAuth, auths), auths, profileJson, profiles);
    }

    private static int pickCard(SplittableRandom random, int cards) {
        int busy = Math.max(1, cards / 10);
        return random.nextBoolean() ? random.nextInt(busy) : busy + random.nextInt(cards - busy);
    }

    private static String authorization(SplittableRandom random, int k, int card, String home, long time) {
        int kind = random.nextInt(1000);
        String mcc;
        if (kind < 4) {
            mcc = MCC_GAMBLING[random.nextInt(MCC_GAMBLING.length)];
        } else if (kind < 12) {
            mcc = MCC_QUASI_CASH[random.nextInt(MCC_QUASI_CASH.length)];
        } else {
            mcc = MCC_STANDARD[random.nextInt(MCC_STANDARD.length)];
        }
        String merchantCountry = random.nextInt(100) < 5 ? ABROAD[random.nextInt(ABROAD.length)] : home;
        String channel = random.nextInt(100) < 8
                ? (random.nextInt(4) == 0 ? "MAIL_PHONE" : "ECOMMERCE")
                : CHANNELS_PRESENT[random.nextInt(CHANNELS_PRESENT.length)];
        // Mostly small purchases, now and then a large one.
        long cents = random.nextInt(100) < 3 ? 50_000 + random.nextInt(300_000) : 150 + random.nextInt(15_000);
        BigDecimal billing = BigDecimal.valueOf(cents, 2);
        BigDecimal amount = BigDecimal.valueOf(cents * (90 + random.nextInt(20)) / 100, 2).max(new BigDecimal("0.01"));
        String currency = CURRENCY[random.nextInt(CURRENCY.length)];
        int merchant = random.nextInt(5000);
        return "{\"auth_id\": \"" + authId(k) + "\", \"card_id\": \"" + cardId(card)
                + "\", \"amount\": \"" + amount.toPlainString() + "\", \"currency\": \"" + currency
                + "\", \"billing_amount\": \"" + billing.toPlainString()
                + "\", \"merchant_id\": \"M-" + merchantCountry + "-" + merchant
                + "\", \"merchant_name\": \"Merchant " + merchant + "\", \"mcc\": \"" + mcc
                + "\", \"merchant_country\": \"" + merchantCountry + "\", \"card_country\": \"" + home
                + "\", \"channel\": \"" + channel + "\", \"event_time\": \"" + Instant.ofEpochMilli(time) + "\"}";
    }

    private static String malformed(int n, int k) {
        String id = "X" + n;
        switch (n % 4) {
            case 0:
                return "{\"auth_id\": \"" + id + "\", \"card_id\": \"card_000001\", \"amount\": ";
            case 1:
                return "{\"auth_id\": \"" + id + "\", \"card_id\": \"card_000001\", \"amount\": \"5.00\", \"currency\": \"USD\", "
                        + "\"billing_amount\": \"5.00\", \"merchant_id\": \"M\", \"merchant_name\": \"M\", \"mcc\": \"541\", "
                        + "\"merchant_country\": \"US\", \"card_country\": \"US\", \"channel\": \"CHIP\", "
                        + "\"event_time\": \"2026-03-14T00:00:00Z\"}";
            case 2:
                return "{\"auth_id\": \"" + id + "\", \"card_id\": \"card_000001\", \"amount\": \"-5.00\", \"currency\": \"USD\", "
                        + "\"billing_amount\": \"-5.00\", \"merchant_id\": \"M\", \"merchant_name\": \"M\", \"mcc\": \"5411\", "
                        + "\"merchant_country\": \"US\", \"card_country\": \"US\", \"channel\": \"CHIP\", "
                        + "\"event_time\": \"2026-03-14T00:00:00Z\"}";
            default:
                return "{\"auth_id\": \"" + id + "\", \"card_id\": \"card_000001\", \"amount\": \"5.00\", \"currency\": \"USD\", "
                        + "\"billing_amount\": \"5.00\", \"merchant_id\": \"M\", \"merchant_name\": \"M\", \"mcc\": \"5411\", "
                        + "\"merchant_country\": \"US\", \"card_country\": \"US\", \"channel\": \"CARRIER_PIGEON\", "
                        + "\"event_time\": \"2026-03-14T00:00:00Z\"}";
        }
    }

    /** The lines as a list (for feeding a source). */
    public List<String> asList() {
        return new ArrayList<>(Arrays.asList(lines));
    }
}
