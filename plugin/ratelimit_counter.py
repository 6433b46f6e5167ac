"""A rate limit counted on the limiter's storage in leases: never more calls than the limit.

Counting every call in Redis costs a round trip per call. A process that keeps serving one
key instead takes a *lease*: it adds N to the window's count in one ``INCRBY`` and serves the
next N calls from memory. Every call served was counted in the storage before it was served,
so no window ever lets more than the limit through, whatever the number of processes or hosts.
A lease starts at one call per window and doubles with each renewal up to ``MOST_LEASED``, and
never exceeds an eighth of what the window has left, so a person who calls rarely costs one
round trip a call, as before, and near the limit each call is counted singly. What a lease has
not used when its window ends is lost: with P processes a person may be refused up to P × 15
calls early in a window, never let through late. A lease ends a second before its window's
counter expires in the storage, so no call counted in one window is served in the next.

Only the fixed-window strategy (the default, ``RATELIMIT_STRATEGY``) can be leased; under the
others each call is one hit of the strategy. While the storage is unreachable each process
counts in its own memory, and looks for the storage again after 1, 2, 4 … 32 s, as
Flask-Limiter does for its limits.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from typing import cast

from flask import Config
from limits import RateLimitItem
from limits.storage import MemoryStorage, Storage, storage_from_string
from limits.strategies import STRATEGIES, FixedWindowRateLimiter, RateLimiter

# The largest lease, and the share of a window's remaining calls one lease may take (1/8).
MOST_LEASED = 16
LEASE_SHARE = 8
# Seconds to wait before looking for an unreachable storage again, doubling up to this.
MOST_BACKOFF = 32
# Leases kept before the expired ones are dropped.
KEPT_LEASES = 4096

log = logging.getLogger(__name__)


@dataclass
class Lease:
    """Calls of one window this process may serve without asking the storage again."""

    expires: float  # when the window's counter expires in the storage (epoch seconds)
    count: int  # the window's count in the storage once this lease was taken
    granted: int
    used: int
    size: int  # what was asked for; the next lease asks for twice as many

    @property
    def ends(self) -> float:
        # A second early: the storage reads expiry in whole seconds.
        return self.expires - 1

    @property
    def reset(self) -> int:
        """When the window ends, as the X-RateLimit-Reset header says it."""
        return int(self.expires + 1)

    def remaining(self, amount: int) -> int:
        return max(0, amount - self.count + self.granted - self.used)


@dataclass(frozen=True)
class Counted:
    """One call counted: whether it is within the limit, the calls left, the window's end."""

    allowed: bool
    remaining: int
    reset: int


class LeasedCounter:
    """Counts calls against limits on the storage ``RATELIMIT_STORAGE_URI`` names."""

    def __init__(self, config: Config) -> None:
        # Its own storage, not Flask-Limiter's: that limiter is one object for the process and
        # holds the storage of the app initialised last.
        self.storage = cast(
            Storage,
            storage_from_string(
                config["RATELIMIT_STORAGE_URI"], **config.get("RATELIMIT_STORAGE_OPTIONS", {})
            ),
        )
        self.fallback = MemoryStorage()
        self.strategy = STRATEGIES[config.get("RATELIMIT_STRATEGY", "fixed-window")]
        self.leased = self.strategy is FixedWindowRateLimiter
        self.prefix: tuple[str, ...] = (
            (config["RATELIMIT_KEY_PREFIX"],) if config.get("RATELIMIT_KEY_PREFIX") else ()
        )
        self._leases: dict[str, Lease] = {}
        self._kept = KEPT_LEASES
        self._lock = threading.Lock()
        self._down = False
        self._next_look = 0.0
        self._looks = 0

    def count(self, item: RateLimitItem, *identifiers: str) -> Counted:
        """Count one call against ``item`` for ``identifiers`` (after the key prefix)."""
        storage = self._current_storage()
        try:
            if self.leased:
                return self._count_leased(storage, item, (*self.prefix, *identifiers))
            return self._hit(self.strategy(storage), item, (*self.prefix, *identifiers))
        except Exception:  # any storage failure: a refused connection, a timeout, redis-py's
            if storage is self.fallback:
                raise
            self._storage_lost()
            return self.count(item, *identifiers)

    def _count_leased(
        self, storage: Storage, item: RateLimitItem, identifiers: tuple[str, ...]
    ) -> Counted:
        key = item.key_for(*identifiers)
        now = time.time()
        with self._lock:
            lease = self._leases.get(key)
            if lease is None or now >= lease.ends:
                size = 1
            elif lease.used < lease.granted:
                lease.used += 1
                return Counted(True, lease.remaining(item.amount), lease.reset)
            else:
                left = (item.amount - lease.count) // LEASE_SHARE
                size = max(1, min(MOST_LEASED, lease.size * 2, left))
        count = storage.incr(key, item.get_expiry(), amount=size)
        expires = storage.get_expiry(key)
        granted = max(0, min(size, item.amount - count + size))
        lease = Lease(expires, count, granted, min(granted, 1), size)
        with self._lock:
            self._leases[key] = lease
            if len(self._leases) > self._kept:
                self._drop_ended(now)
        return Counted(granted > 0, lease.remaining(item.amount), lease.reset)

    def _drop_ended(self, now: float) -> None:
        self._leases = {key: lease for key, lease in self._leases.items() if lease.ends > now}
        self._kept = max(KEPT_LEASES, 2 * len(self._leases))

    @staticmethod
    def _hit(strategy: RateLimiter, item: RateLimitItem, identifiers: tuple[str, ...]) -> Counted:
        allowed = strategy.hit(item, *identifiers)
        reset, remaining = strategy.get_window_stats(item, *identifiers)
        return Counted(allowed, remaining, int(reset + 1))

    def _current_storage(self) -> Storage:
        if not self._down:
            return self.storage
        with self._lock:
            if time.monotonic() < self._next_look:
                return self.fallback
            self._looks = min(self._looks + 1, MOST_BACKOFF.bit_length() - 1)
            self._next_look = time.monotonic() + min(2**self._looks, MOST_BACKOFF)
        if not self.storage.check():
            return self.fallback
        log.info("Rate limit storage recovered")
        with self._lock:
            self._down = False
        return self.storage

    def _storage_lost(self) -> None:
        with self._lock:
            if self._down:
                return
            self._down = True
            self._looks = 0
            self._next_look = time.monotonic() + 1
        log.warning("Rate limit storage unreachable - counting in memory until it is back")
