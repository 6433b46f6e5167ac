"""gunicorn settings for `gunicorn wsgi:app`; every value can be changed from the environment.

Run behind a TLS-terminating proxy (nginx, caddy) on the same host; see docs/deploy.md.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
from collections.abc import Mapping
from typing import Any


def _int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    try:
        return int(value)
    except ValueError:
        sys.exit(f"Configuration error: {name} must be a whole number (got {value!r})")


def _check_app_settings() -> Mapping[str, Any]:
    # Workers that cannot build the app would exit and be respawned forever, each printing
    # the same error; checking here, in the master and before anything is logged, stops
    # gunicorn at once with one line and a non-zero status.
    from plugin.config import ConfigError, check_environment

    try:
        return check_environment()
    except ConfigError as error:
        sys.exit(f"Configuration error: {error}")


_app_settings = _check_app_settings()


def on_starting(server: Any) -> None:
    # Once, in the master (each worker would repeat it): what works but should be fixed,
    # one line each: PLUGIN_BASE_URL unset or http, the database or Redis not answering.
    from plugin.startup import startup_warnings

    for warning in startup_warnings(_app_settings):
        server.log.warning(warning)


def _head_buffering_worker() -> type:
    from plugin.gthread_worker import HeadBufferingWorker

    header_timeout = _int("GUNICORN_HEADER_TIMEOUT", 10)
    if header_timeout < 1:
        sys.exit("Configuration error: GUNICORN_HEADER_TIMEOUT must be at least 1 (seconds)")
    HeadBufferingWorker.header_timeout = header_timeout
    return HeadBufferingWorker


# Where to listen. The proxy talks to this address; keep it on loopback unless the proxy
# runs on another machine.
if os.environ.get("GUNICORN_BIND"):
    bind = os.environ["GUNICORN_BIND"].split(",")
elif os.environ.get("PORT"):
    bind = [f"127.0.0.1:{_int('PORT', 8000)}"]
else:
    bind = ["127.0.0.1:8000"]

# Requests wait on the database and on Argon2 (CPU): 2 × cores + 1, capped so a large
# machine does not exhaust PostgreSQL's connections (each worker holds a small pool).
workers = _int("WEB_CONCURRENCY", min(multiprocessing.cpu_count() * 2 + 1, 12))
# gthread rather than sync: it keeps the proxy's connections alive (deploy/nginx.conf sets an
# upstream keepalive; sync closes every connection) and, measured on 2 cores with the same
# WEB_CONCURRENCY, served listTodos with 12-30% less CPU per request (bench/RESULTS.md).
# Unlike sync, a gthread worker keeps signalling while a request hangs, so `timeout` below
# does not cut long requests short; the database and Redis timeouts bound them instead.
#
# The worker is gthread's own, except that it reads each request head in its event loop
# before giving the request to a thread (plugin/gthread_worker.py): with plain gthread, a
# dozen clients sending half a header each stalled every worker (tests/production/
# test_slow_clients.py). A head must arrive within GUNICORN_HEADER_TIMEOUT seconds.
worker_class = os.environ.get("GUNICORN_WORKER_CLASS") or _head_buffering_worker()
threads = _int("GUNICORN_THREADS", 1)

# A worker silent this long is killed and replaced (its in-flight request fails, its
# transaction rolls back). Argon2 and the slowest page take well under a second.
timeout = _int("GUNICORN_TIMEOUT", 30)
# On SIGTERM/HUP, workers finish the requests they hold for up to this long.
graceful_timeout = _int("GUNICORN_GRACEFUL_TIMEOUT", 30)
# Must stay below the proxy's upstream keep-alive so the proxy never reuses a closed socket.
keepalive = _int("GUNICORN_KEEPALIVE", 5)
# Recycle workers now and then (bounds any slow leak); jitter keeps them from restarting together.
# A new worker costs about 0.5 s of CPU to import the app: every 2,000 requests that added
# 0.4-1.9 ms to each API call under load (bench/RESULTS.md), every 20,000 it is negligible.
max_requests = _int("GUNICORN_MAX_REQUESTS", 20_000)
max_requests_jitter = _int("GUNICORN_MAX_REQUESTS_JITTER", 2_000)

# Which peers may set X-Forwarded-*: gunicorn's own handling (wsgi.url_scheme). The app
# itself trusts PROXY_FIX_HOPS proxies (see docs/deploy.md).
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1,::1")

# The app writes one line per request itself (plugin/logs.py, with the user and request
# id), so gunicorn's access log is off unless GUNICORN_ACCESS_LOG names a file or "-".
accesslog = os.environ.get("GUNICORN_ACCESS_LOG") or None
# Its fields are escaped like the app's own lines, so a path cannot forge a line.
logger_class = "plugin.access_log.AccessLogger"
# %(U)s is the path without its query string (codes and states travel there); no Referer,
# no request line, no headers other than the request id.
access_log_format = '%(h)s "%(m)s %(U)s" %(s)s %(B)s %(M)sms request_id=%({x-request-id}o)s "%(a)s"'
errorlog = os.environ.get("GUNICORN_ERROR_LOG", "-")
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
proc_name = "chatgpt-oauth-plugin"
# gunicorn's runtime control socket (gunicornc) is one fixed path per user, which two
# instances on one host would fight over: off unless a path is given.
if os.environ.get("GUNICORN_CONTROL_SOCKET"):
    control_socket = os.environ["GUNICORN_CONTROL_SOCKET"]
else:
    control_socket_disable = True
# gunicorn refuses longer request lines and more header fields than this before they reach
# the app; bodies are the app's to limit (MAX_CONTENT_LENGTH, plugin/inputs.py).
limit_request_line = 8190
limit_request_fields = 100
