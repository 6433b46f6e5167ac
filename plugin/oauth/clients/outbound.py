"""Where metadata-document fetches run: in threads of their own, never long on a request's.

A worker serves one request at a time (gunicorn.conf.py) and keeps accepting connections
meanwhile, so a fetch on the request's thread would hold the worker, and every request queued
behind it, for as long as the host likes. Here each fetch runs in a daemon thread and the
request that started it waits at most ``OAUTH_CIMD_FETCH_WAIT`` seconds (a request queued
behind a few slow ones still waits only a few times that); the fetch stores its outcome itself
(``job``), so a request that gave up finds it on its next try, on any worker. A request for a
URL already being fetched does not wait at all. At most ``MAX_IN_FLIGHT`` fetches run at once
in a process, and fetches are counted per requesting address and per host in the rate-limit
storage (shared through Redis when ``REDIS_URL`` is set): past the limits nothing is fetched.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from urllib.parse import urlsplit

from flask import current_app, has_request_context, request
from limits import parse_many

from plugin.extensions import limiter

log = logging.getLogger(__name__)

MAX_IN_FLIGHT = 4
FETCHES_PER_ADDRESS = "10 per minute;60 per hour"
FETCHES_PER_HOST = "10 per minute;60 per hour"

_lock = threading.Lock()
_running: dict[str, threading.Event] = {}
_slots = threading.BoundedSemaphore(MAX_IN_FLIGHT)


class FetchRefused(Exception):
    """No fetch was started (too many at once, or too many from this address or host)."""


def _limit_keys(url: str) -> list[tuple[str, ...]]:
    prefix = current_app.config["RATELIMIT_KEY_PREFIX"]
    host = (urlsplit(url).hostname or "").lower()
    keys: list[tuple[str, ...]] = [(FETCHES_PER_HOST, prefix, "cimd-fetch-host", host)]
    if has_request_context():
        keys.append((FETCHES_PER_ADDRESS, prefix, "cimd-fetch-address", request.remote_addr or ""))
    return keys


def _count_fetch(url: str) -> None:
    """Count one fetch of ``url``, or raise FetchRefused once a limit is reached."""
    if not current_app.config["RATELIMIT_ENABLED"]:
        return
    try:
        strategy = limiter.limiter
        counted = [(item, key) for text, *key in _limit_keys(url) for item in parse_many(text)]
        if not all(strategy.test(item, *key) for item, key in counted):
            raise FetchRefused("Too many client metadata documents were fetched: try again later.")
        for item, key in counted:
            strategy.hit(item, *key)
    except FetchRefused:
        raise
    except Exception:
        log.warning("metadata fetch limit not checked: the rate-limit storage failed")


def start_fetch(url: str, job: Callable[[], None]) -> tuple[threading.Event, bool]:
    """Run ``job`` (fetch ``url`` and store the outcome) in a thread, unless one already runs
    for ``url``; return the event set when it has ended, and whether this call started it.
    Raises FetchRefused."""
    with _lock:
        running = _running.get(url)
    if running is not None:
        return running, False
    _count_fetch(url)
    if not _slots.acquire(blocking=False):
        raise FetchRefused("Too many client metadata documents are being fetched: try again.")
    with _lock:
        running = _running.get(url)
        if running is not None:
            _slots.release()
            return running, False
        done = _running[url] = threading.Event()
    threading.Thread(target=_run, args=(url, job, done), name="cimd-fetch", daemon=True).start()
    return done, True


def _run(url: str, job: Callable[[], None], done: threading.Event) -> None:
    try:
        job()
    except Exception as error:  # a thread's failure would otherwise only reach stderr
        log.warning("metadata document fetch failed unexpectedly: %s", type(error).__name__)
    finally:
        with _lock:
            _running.pop(url, None)
        _slots.release()
        done.set()


def in_flight() -> int:
    """How many fetches this process is running now."""
    with _lock:
        return len(_running)


def fetch_and_wait(url: str, job: Callable[[], None]) -> bool:
    """Start the fetch of ``url`` and wait ``OAUTH_CIMD_FETCH_WAIT`` seconds for it (enough
    for a host that answers at all promptly: DNS, TLS and one GET take a few hundred
    milliseconds); False if it is still running (or was already running: a retry does not
    wait twice)."""
    done, started = start_fetch(url, job)
    return done.wait(current_app.config["OAUTH_CIMD_FETCH_WAIT"]) if started else done.is_set()
