"""The player cache on its own: counters, TTL with an injected timer, the write generation."""

from cache.players import ABSENT, TTL_SECONDS, PlayerCache
from ladder.players import Player


class FakeClock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def test_hits_and_misses_are_counted():
    cache = PlayerCache()
    assert cache.get(1) is None
    cache.put(1, Player(1, "a"), cache.generation)
    assert cache.get(1) == Player(1, "a")
    assert cache.get(1) == Player(1, "a")
    stats = cache.stats()
    assert (stats.hits, stats.misses, stats.size) == (2, 1, 1)
    assert stats.hit_rate == 2 / 3


def test_unknown_users_are_cached_as_absent():
    cache = PlayerCache()
    cache.put(7, None, cache.generation)
    assert cache.get(7) is ABSENT


def test_entries_expire_after_the_ttl():
    clock = FakeClock()
    cache = PlayerCache(timer=clock)
    cache.put(1, Player(1, "a"), cache.generation)
    clock.now += TTL_SECONDS - 1
    assert cache.get(1) is not None
    clock.now += 2
    assert cache.get(1) is None


def test_ttl_is_fifteen_minutes():
    assert TTL_SECONDS == 900


def test_invalidate_drops_the_entry():
    cache = PlayerCache()
    cache.put(1, Player(1, "a"), cache.generation)
    cache.invalidate(1)
    assert cache.get(1) is None
    assert cache.stats().invalidations == 1


def test_a_read_that_raced_a_write_is_not_cached():
    cache = PlayerCache()
    generation = cache.generation  # a reader starts its database read
    cache.invalidate(1)  # a write commits meanwhile
    cache.put(1, Player(1, "stale"), generation)
    assert cache.get(1) is None


def test_the_cache_is_bounded():
    cache = PlayerCache(maxsize=10)
    for uid in range(100):
        cache.put(uid, Player(uid, "p"), cache.generation)
    assert cache.stats().size == 10
