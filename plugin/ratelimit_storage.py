"""The rate limiter's Redis storage: one round trip per limit a request counts.

Flask-Limiter counts a request with the fixed-window strategy (``incr``), then reads the same
counter back for the ``X-RateLimit-*`` headers (``get`` and ``get_expiry``): three round trips
to Redis for one limit. Here ``incr`` runs one script that returns the count and the counter's
time to live together, and the header reads that follow within the same request are answered
from what it returned. Counts, expiry, 429 answers and headers are those of ``limits``'
``RedisStorage``; only the round trips go. ``REDIS_URL`` selects this storage
(``plugin.config.checks``) through the ``limits`` registry of storage schemes.
"""

from __future__ import annotations

import time
from typing import Any

from flask import has_request_context, request
from limits.storage import RedisStorage

SCHEME_PREFIX = "plugin+"
# Where a request keeps the windows it counted: its WSGI environ ends with it.
WINDOWS = "plugin.ratelimit.windows"

# limits' incr_expire.lua, answering the TTL as well (one integer second, as ``get_expiry``
# reads it) so the headers need no second trip.
INCR_EXPIRE_TTL = b"""
local amount = tonumber(ARGV[2])
local current = redis.call("incrby", KEYS[1], amount)
if current == amount then
    redis.call("expire", KEYS[1], ARGV[1])
end
return {current, redis.call("ttl", KEYS[1])}
"""


class OneTripRedisStorage(RedisStorage):
    """``limits``' Redis storage counting and reading a window in one round trip."""

    STORAGE_SCHEME = [f"{SCHEME_PREFIX}{scheme}" for scheme in ("redis", "rediss", "unix")]

    def __init__(self, uri: str, **options: Any) -> None:
        super().__init__(uri.removeprefix(SCHEME_PREFIX), **options)

    def initialize_storage(self, uri: str) -> None:
        super().initialize_storage(uri)
        self.lua_incr_expire_ttl = self.get_connection().register_script(INCR_EXPIRE_TTL)

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        count, ttl = self.lua_incr_expire_ttl([self.prefixed_key(key)], [expiry, amount])
        windows = _windows()
        if windows is not None:
            windows[key] = (int(count), max(int(ttl), 0) + time.time())
        return int(count)

    def get(self, key: str) -> int:
        windows = _windows()
        if windows and key in windows:
            return windows[key][0]
        return int(super().get(key))

    def get_expiry(self, key: str) -> float:
        # The read that ends Flask-Limiter's window lookup: later reads go to Redis again.
        windows = _windows()
        if windows and key in windows:
            return windows.pop(key)[1]
        return float(super().get_expiry(key))

    def clear(self, key: str) -> None:
        windows = _windows()
        if windows:
            windows.pop(key, None)
        super().clear(key)


def _windows() -> dict[str, tuple[int, float]] | None:
    """This request's counted windows (key → count, expiry); None outside a request."""
    if not has_request_context():
        return None
    windows: dict[str, tuple[int, float]] = request.environ.setdefault(WINDOWS, {})
    return windows
