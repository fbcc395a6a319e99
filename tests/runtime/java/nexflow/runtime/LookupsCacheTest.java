package nexflow.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.flink.streaming.api.functions.async.CollectionSupplier;
import org.apache.flink.streaming.api.functions.async.ResultFuture;
import org.junit.jupiter.api.Test;

/** The lookups' answer cache (LRU with a time to live), coalesced calls and once-only results. */
class LookupsCacheTest {

    @Test
    void theLeastRecentlyUsedAnswerMakesRoomWhenTheCacheIsFull() {
        Lookups.Cache<String> cache = new Lookups.Cache<>(2, 1_000);
        cache.put("a", "A", 0);
        cache.put("b", "B", 0);
        assertNotNull(cache.get("a", 1)); // a is now more recent than b
        cache.put("c", "C", 1);
        assertEquals(2, cache.size());
        assertEquals(1, cache.evicted());
        assertNull(cache.get("b", 2), "b was the least recently used");
        assertEquals("A", cache.get("a", 2).value);
        assertEquals("C", cache.get("c", 2).value);
    }

    @Test
    void anAnswerIsKeptForItsTimeAndNotAMillisecondMore() {
        Lookups.Cache<String> cache = new Lookups.Cache<>(10, 500);
        cache.put("k", "V", 1_000);
        assertEquals("V", cache.get("k", 1_499).value);
        assertNull(cache.get("k", 1_500), "kept until now + 500 ms, exclusive");
        assertEquals(0, cache.size(), "an expired answer is dropped, not kept as a miss");
        assertEquals(0, cache.evicted(), "expiry is no eviction");
    }

    @Test
    void aBadDocumentVerdictIsCachedLikeAnAnswer() {
        Lookups.Cache<String> cache = new Lookups.Cache<>(10, 100);
        cache.putBad("k", 0);
        Lookups.Cached<String> hit = cache.get("k", 50);
        assertNotNull(hit);
        assertTrue(hit.bad);
        assertNull(hit.value);
        assertNull(cache.get("k", 100));
    }

    @Test
    void aMissWaitsForTheCallAlreadyRunningForItsKey() throws Exception {
        Lookups.InFlight<String> inFlight = new Lookups.InFlight<>();
        AtomicInteger started = new AtomicInteger();
        CompletableFuture<String> pending = new CompletableFuture<>();
        CompletableFuture<String> first = inFlight.call("k", key -> {
            started.incrementAndGet();
            return pending;
        });
        CompletableFuture<String> second = inFlight.call("k", key -> {
            started.incrementAndGet();
            return CompletableFuture.completedFuture("other");
        });
        assertSame(first, second);
        assertEquals(1, started.get());
        assertEquals(1, inFlight.coalesced());
        assertEquals(1, inFlight.running());
        pending.complete("V");
        assertEquals("V", second.get());
        assertEquals(0, inFlight.running(), "a finished call is forgotten");
        // The next miss asks the store again.
        CompletableFuture<String> third = inFlight.call("k", key -> {
            started.incrementAndGet();
            return CompletableFuture.completedFuture("again");
        });
        assertEquals("again", third.get());
        assertEquals(2, started.get());
        assertEquals(0, inFlight.running(), "a call done at once is never kept");
    }

    @Test
    void aCallThatThrowsAsItStartsIsAFailedAnswerNotAStuckKey() {
        Lookups.InFlight<String> inFlight = new Lookups.InFlight<>();
        CompletableFuture<String> call = inFlight.call("k", key -> {
            throw new IllegalStateException("no connection");
        });
        ExecutionException e = assertThrows(ExecutionException.class, call::get);
        assertEquals("no connection", e.getCause().getMessage());
        assertEquals(0, inFlight.running());
    }

    @Test
    void aRecordsResultIsCompletedOnceTheFirstCompletionWins() {
        Recorded<String> result = new Recorded<>();
        Lookups.Once<String> once = new Lookups.Once<>(result);
        once.complete(List.of("answer"));
        once.completeExceptionally(new RuntimeException("deadline passed"));
        once.complete(List.of("late"));
        assertEquals(1, result.completions);
        assertEquals(List.of("answer"), result.rows);
        assertNull(result.error);
    }

    @Test
    void theCacheSizeSettingHasADefault() {
        assertEquals(Lookups.DEFAULT_CACHE_ENTRIES, Lookups.cacheEntries(Map.of()));
        assertEquals(250, Lookups.cacheEntries(Map.of("cache_entries", " 250 ")));
    }

    /** A ResultFuture that records what completes it. */
    private static final class Recorded<R> implements ResultFuture<R> {
        int completions;
        Collection<R> rows;
        Throwable error;

        @Override
        public void complete(Collection<R> result) {
            completions++;
            rows = result;
        }

        @Override
        public void completeExceptionally(Throwable e) {
            completions++;
            error = e;
        }

        @Override
        public void complete(CollectionSupplier<R> supplier) {
            completions++;
        }
    }
}
