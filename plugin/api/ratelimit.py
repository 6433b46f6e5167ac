"""The API rate limit: every call of an operation, on any surface, counted per person.

Counted by ``plugin.ratelimit_counter`` on the limiter's storage (Redis in production), under
the key Flask-Limiter gave it, so counts carry over an upgrade, rather than by Flask-Limiter's
evaluation of a decorated view (its context, limit resolution, exemption and meta-limit
passes, header injection), which cost about a quarter of a getMe call. The answers are
Flask-Limiter's: the same 429, ``X-RateLimit-*`` on every answer and ``Retry-After`` on a
refusal.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from functools import lru_cache, wraps
from typing import ParamSpec

from flask import Response, after_this_request, current_app, request
from limits import RateLimitItem, parse_many
from werkzeug.exceptions import TooManyRequests

from plugin.extensions import limiter
from plugin.oauth.resources.protect import current_token
from plugin.ratelimit_counter import Counted, LeasedCounter

P = ParamSpec("P")
TOO_MANY = "Too many requests. Wait a minute and try again."
EXTENSION = "plugin.api_rate_limit"
# Flask-Limiter's scope for the limit every surface shares (``shared_limit(scope="api")``).
SCOPE = "api"
COUNTS_OWN_LIMIT = "__counts_own_limit__"

log = logging.getLogger(__name__)


def limit_like_api(view: Callable[P, Response]) -> Callable[P, Response]:
    """Count each call of ``view`` against the person's API rate limit, shared by every
    surface that runs operations; the caller must have checked the token already."""

    @wraps(view)
    def limited(*args: P.args, **kwargs: P.kwargs) -> Response:
        config = current_app.config
        if config["RATELIMIT_ENABLED"]:
            _count_call(_limits(config["API_RATE_LIMIT"]))
        return view(*args, **kwargs)

    return counts_api_limit(limited)


def counts_api_limit(view: Callable[P, Response]) -> Callable[P, Response]:
    """Mark ``view`` as one whose work counts the API limit (through ``limit_like_api``):
    Flask-Limiter then skips its per-request pass for it (the request filter below)."""
    setattr(view, COUNTS_OWN_LIMIT, True)
    return view


def counts_own_limit() -> bool:
    """Whether this request's view counts the API limit itself (Flask-Limiter's request
    filter: its pass then stops early, for the API's and MCP's calls)."""
    view = current_app.view_functions.get(request.endpoint or "")
    return getattr(view, COUNTS_OWN_LIMIT, False)


limiter.request_filter(counts_own_limit)


def _count_call(limits: tuple[RateLimitItem, ...]) -> None:
    counter: LeasedCounter | None = current_app.extensions.get(EXTENSION)
    if counter is None:
        counter = current_app.extensions.setdefault(EXTENSION, LeasedCounter(current_app.config))
    # Counted per person, however many tokens or addresses their requests come from.
    person = f"api-user:{current_token.user_id}"
    # As Flask-Limiter does: the shortest window first, up to the first refusal, and the
    # headers speak of the refusing limit, or else of the shortest window.
    shown = None
    for item in limits:
        counted = counter.count(item, person, SCOPE)
        shown = shown or (item, counted)
        if not counted.allowed:
            after_this_request(_headers(item, counted))
            log.info("API rate limit %s reached for %s", item, person)
            raise TooManyRequests(TOO_MANY)
    if shown is not None:
        after_this_request(_headers(*shown))


def _headers(item: RateLimitItem, counted: Counted) -> Callable[[Response], Response]:
    def add_headers(response: Response) -> Response:
        headers = response.headers
        headers["X-RateLimit-Limit"] = str(item.amount)
        headers["X-RateLimit-Remaining"] = str(counted.remaining)
        headers["X-RateLimit-Reset"] = str(counted.reset)
        if not counted.allowed:
            headers["Retry-After"] = str(max(counted.reset - int(time.time()), 1))
        return response

    return add_headers


@lru_cache(maxsize=8)
def _limits(text: str) -> tuple[RateLimitItem, ...]:
    """The limits a setting such as ``600 per minute;10000 per day`` names, shortest first."""
    return tuple(sorted(parse_many(text)))
