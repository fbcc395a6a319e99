package nexflow.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.Test;

/** Store settings (timeouts, cache size), writes kept in order per key, failures classified. */
class StoresTest {

    @Test
    void timeoutsAreMillisecondsWithOrWithoutTheUnit() {
        assertEquals(500, Stores.millis("500"));
        assertEquals(500, Stores.millis(" 500 ms "));
        assertEquals(-1, Stores.millis("5 s"));
        assertEquals(-1, Stores.millis("-5"));
        assertEquals(Stores.DEFAULT_READ_TIMEOUT_MILLIS, Stores.readTimeoutMillis(Map.of()));
        assertEquals(Stores.DEFAULT_WRITE_TIMEOUT_MILLIS, Stores.writeTimeoutMillis(Map.of()));
        assertEquals(250, Stores.readTimeoutMillis(Map.of("read_timeout", "250 ms")));
        assertEquals(7000, Stores.writeTimeoutMillis(Map.of("write_timeout", "7000")));
    }

    @Test
    void everyBadSettingIsNamedInOneMessage() {
        assertNull(Stores.problems(Map.of("read_timeout", "100 ms", "cache_entries", "10")));
        String problems = Stores.problems(Map.of("read_timeout", "0", "write_timeout", "soon", "cache_entries", "0"));
        assertTrue(problems.contains("read_timeout is '0'"), problems);
        assertTrue(problems.contains("write_timeout is 'soon'"), problems);
        assertTrue(problems.contains("cache_entries is '0'"), problems);
        assertTrue(Stores.problems(Map.of("cache_entries", "1000000000")).contains("cache_entries"));
    }

    @Test
    void aWriteStartsWhenTheWriteBeforeItOfTheSameKeyHasCompleted() {
        Stores.KeyOrder order = new Stores.KeyOrder();
        List<String> started = new ArrayList<>();
        CompletableFuture<Void> first = new CompletableFuture<>();
        order.after("k", () -> {
            started.add("k1");
            return first;
        });
        CompletableFuture<Void> second = order.after("k", () -> {
            started.add("k2");
            return CompletableFuture.completedFuture(null);
        });
        order.after("other", () -> {
            started.add("other");
            return CompletableFuture.completedFuture(null);
        });
        assertEquals(List.of("k1", "other"), started, "another key does not wait");
        assertEquals(1, order.keys());
        first.completeExceptionally(new RuntimeException("write failed"));
        assertEquals(List.of("k1", "other", "k2"), started, "the next write starts even after a failure");
        assertTrue(second.isDone());
        assertEquals(0, order.keys(), "no key is kept once its writes are done");
    }

    @Test
    void aTimeoutIsUnavailableAndNamesTheBoundThatPassed() {
        StoreException e = Stores.classified("ledger", new CompletionException(new TimeoutException()), 750);
        assertEquals(StoreException.UNAVAILABLE, e.reason());
        assertTrue(e.getMessage().contains("no answer within 750 ms"), e.getMessage());
        StoreException known = new StoreException("ledger", StoreException.UNAVAILABLE, "down", null);
        assertSame(known, Stores.classified("ledger", new CompletionException(known)));
    }
}
