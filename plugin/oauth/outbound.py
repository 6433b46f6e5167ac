"""Where metadata-document fetches run: in threads of their own, never long on a request's.

A worker serves one request at a time (gunicorn.conf.py), so a fetch on the request's thread
would hold the worker for as long as the host likes. Here each fetch runs in a daemon thread
and the request waits for it at most ``WAIT`` seconds; the fetch stores its outcome itself
(``job``), so a request that gave up finds it on its next try, on any worker. At most
``MAX_IN_FLIGHT`` fetches run at once in a process, a request for a URL already being fetched
waits for that fetch, and fetches are counted per requesting address and per host in the
rate-limit storage (shared through Redis when ``REDIS_URL`` is set): past the limits nothing
is fetched.
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

# Seconds a request waits for a fetch before answering "try again".
WAIT = 1.0
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
    keys = [(FETCHES_PER_HOST, prefix, "cimd-fetch-host", host)]
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


def start_fetch(url: str, job: Callable[[], None]) -> threading.Event:
    """Run ``job`` (fetch ``url`` and store the outcome) in a thread, unless one already runs
    for ``url``; return the event set when it has ended. Raises FetchRefused."""
    with _lock:
        running = _running.get(url)
    if running is not None:
        return running
    _count_fetch(url)
    if not _slots.acquire(blocking=False):
        raise FetchRefused("Too many client metadata documents are being fetched: try again.")
    with _lock:
        running = _running.get(url)
        if running is not None:
            _slots.release()
            return running
        done = _running[url] = threading.Event()
    threading.Thread(target=_run, args=(url, job, done), name="cimd-fetch", daemon=True).start()
    return done


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


def fetch_and_wait(url: str, job: Callable[[], None], wait: float = WAIT) -> bool:
    """Start (or join) the fetch of ``url`` and wait for it; False if it is still running."""
    return start_fetch(url, job).wait(wait)
