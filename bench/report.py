"""The results tables, the targets' verdicts and bench/RESULTS.md."""

from __future__ import annotations

import statistics
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import Any

NOTES_HEADING = "## Notes"
HEADER = (
    "| database | workers | round | scenario | stored tokens | req/s | p50 ms | p99 ms | non-2xx "
    "| socket errors | vs bare | vs peer | server CPU ms/req | peak RSS/worker MiB "
    "| load (1 min) |"
)
# scenario, what it is compared with, the least ratio the issue asks for
TARGETS = (
    ("getMe", "peer", 1.0),
    ("listTodos", "bare", 0.35),
    ("refresh grant", "bare", 0.15),
    ("MCP tools/call listTodos", "bare", 0.25),
)
# The peer's run doing the same work as the app's scenario, where it has one.
PEER_SCENARIO = {
    "getMe": "peer /api/me",
    "listTodos": "peer /api/todos",
    "refresh grant": "peer refresh grant",
}
FLAT = ("getMe", "listTodos")  # latency and CPU per request with 1,000,000 stored tokens
# The production configuration's scenarios end with this (PostgreSQL, rate limits on Redis);
# each is compared with the same scenario with limits off in the same round.
LIMITS_ON = ", limits on Redis"
LIMITS_ON_LEAST = 0.90  # req/s with limits on, at least this share of limits off


def line(row: Any) -> str:
    r = row.result
    flag = "  <-- FAILURES" if r.non_2xx or r.socket_errors else ""
    return (
        f"[{row.database}/{row.worker_class}/{row.phase} r{row.round}] {row.scenario:<24} "
        f"{r.requests_per_second:8.0f} req/s "
        f"p50 {r.p50_ms:7.2f} ms  p99 {r.p99_ms:7.2f} ms  non-2xx {r.non_2xx}  "
        f"socket errors {r.socket_errors}  {row.ratio:5.0%} of bare  "
        f"{row.peer_ratio:5.0%} of peer  CPU {row.cpu_ms:.2f} ms/req  "
        f"RSS {row.peak_rss_mb:.0f} MiB  load {row.load:.2f}{flag}"
    )


def table(rows: Iterable[Any]) -> str:
    lines = [HEADER, _rule()]
    for row in rows:
        r = row.result
        peer = f"{row.peer_ratio:.2f}" if row.peer_ratio == row.peer_ratio else "–"
        lines.append(
            f"| {row.database} | {row.worker_class} | {row.round + 1} | {row.scenario} "
            f"| {row.stored_tokens:,} | {r.requests_per_second:,.0f} | {r.p50_ms:.2f} "
            f"| {r.p99_ms:.2f} | {_bad(r.non_2xx)} | {_bad(r.socket_errors)} | {row.ratio:.2f} "
            f"| {peer} | {row.cpu_ms:.2f} | {row.peak_rss_mb:.0f} | {row.load:.2f} |"
        )
    return "\n".join(lines)


def _rule() -> str:
    return "|" + "---|" * (HEADER.count("|") - 1)


def _bad(count: int) -> str:
    return f"**{count} FAIL**" if count else "0"


def _find(rows: list[Any], database: str, worker_class: str, scenario: str, phase: str) -> Any:
    for r in rows:
        if (r.database, r.worker_class, r.scenario, r.phase) == (
            database,
            worker_class,
            scenario,
            phase,
        ):
            return r
    return None


def verdicts(rows: list[Any]) -> list[str]:
    """One line per target and configuration: met or not, with the figures (median rounds)."""
    out = []
    for database, worker_class in sorted({(r.database, r.worker_class) for r in rows}):
        name = f"{database}/{worker_class}"
        for scenario, against, least in TARGETS:
            for phase, tokens in (("small", "1,000"), ("large", "1,000,000")):
                row = _find(rows, database, worker_class, scenario, phase)
                if row is None:
                    continue
                ratio = row.peer_ratio if against == "peer" else row.ratio
                ceiling_cpu = row.peer_cpu_ms if against == "peer" else row.bare_cpu_ms
                figures = (
                    f"{ratio:.2f}x by req/s; {ceiling_cpu / row.cpu_ms:.2f}x by server CPU "
                    f"per request ({row.cpu_ms:.2f} vs {ceiling_cpu:.2f} ms)"
                )
                peer = _find(rows, database, worker_class, PEER_SCENARIO.get(scenario, ""), phase)
                if against == "bare" and peer is not None:
                    figures += (
                        f"; the peer doing the same work: {peer.ratio:.2f}x bare, "
                        f"{peer.cpu_ms:.2f} ms; this scenario {row.peer_ratio:.2f}x the peer"
                    )
                out.append(
                    _target(
                        f"{name}: {scenario} >= {least:.2f}x {against} ({tokens} tokens)",
                        ratio >= least,
                        figures,
                    )
                )
        for scenario in FLAT:
            small = _find(rows, database, worker_class, scenario, "small")
            large = _find(rows, database, worker_class, scenario, "large")
            if not (small and large):
                continue
            p50 = large.result.p50_ms / small.result.p50_ms - 1
            cpu = large.cpu_ms / small.cpu_ms - 1
            out.append(
                _target(
                    f"{name}: {scenario} latency and CPU per request flat (<= +10%) from "
                    f"{small.stored_tokens:,} to {large.stored_tokens:,} stored tokens",
                    p50 <= 0.10 and cpu <= 0.10,
                    f"p50 {small.result.p50_ms:.2f} -> {large.result.p50_ms:.2f} ms ({p50:+.0%}); "
                    f"server CPU {small.cpu_ms:.2f} -> {large.cpu_ms:.2f} ms/req ({cpu:+.0%})",
                )
            )
        out += _limits_on_verdicts(
            [r for r in rows if (r.database, r.worker_class) == (database, worker_class)], name
        )
    failures = sum(r.result.non_2xx + r.result.socket_errors for r in rows)
    out.append(
        _target("zero non-2xx responses and socket errors", failures == 0, f"{failures} in all")
    )
    return out


def _limits_on_verdicts(rows: list[Any], name: str) -> list[str]:
    out = []
    for row in rows:
        if not row.scenario.endswith(LIMITS_ON) or row.off_rps != row.off_rps:
            continue
        off = row.scenario.removesuffix(LIMITS_ON)
        tokens = f"{row.stored_tokens:,}"
        out.append(
            _target(
                f"{name}: {row.scenario} >= {LIMITS_ON_LEAST:.2f}x {off} with limits off "
                f"({tokens} tokens)",
                row.limits_ratio >= LIMITS_ON_LEAST,
                f"{row.limits_ratio:.2f}x by req/s; {row.off_cpu_ms / row.cpu_ms:.2f}x by server "
                f"CPU per request ({row.cpu_ms:.2f} vs {row.off_cpu_ms:.2f} ms)",
            )
        )
    return out


# Production's targets, judged on every round (ratios within a round; median and range).
MCP_VS_API = ("MCP tools/call listTodos", "listTodos", 0.8)
TAIL_SCENARIOS = ("getMe", "listTodos", "MCP tools/call listTodos")
TAIL_MOST = 4.0  # p99 at most this many times p50
PEER_LEAST = (("refresh grant", "postgresql", 1.0), ("getMe", None, 1.5))


def round_verdicts(every_run: list[Any]) -> list[str]:
    """The MCP call against ``/api``, the tail, and the peer targets, from every round's rows."""
    out = []
    for database, worker_class in sorted({(r.database, r.worker_class) for r in every_run}):
        name = f"{database}/{worker_class}"
        runs = [r for r in every_run if (r.database, r.worker_class) == (database, worker_class)]
        by_round: dict[tuple[str, int], dict[str, Any]] = {}
        for r in runs:
            by_round.setdefault((r.phase, r.round), {})[r.scenario] = r
        mcp, api, least = MCP_VS_API
        ratios = [
            scenarios[mcp].result.requests_per_second / scenarios[api].result.requests_per_second
            for scenarios in by_round.values()
            if mcp in scenarios and api in scenarios
        ]
        if ratios:
            out.append(_ranged(f"{name}: {mcp} >= {least:.2f}x {api} (req/s)", ratios, least))
        for scenario in TAIL_SCENARIOS:
            tails = [r.result.p99_ms / r.result.p50_ms for r in runs if r.scenario == scenario]
            if tails:
                out.append(
                    _target(
                        f"{name}: {scenario} p99 <= {TAIL_MOST:.0f}x p50 in every run",
                        max(tails) <= TAIL_MOST,
                        f"at most {max(tails):.1f}x in {len(tails)} runs",
                    )
                )
        for scenario, only_on, least in PEER_LEAST:
            if only_on not in (None, database):
                continue
            ratios = [r.peer_ratio for r in runs if r.scenario == scenario and r.peer_rps]
            if ratios:
                out.append(_ranged(f"{name}: {scenario} >= {least:.2f}x peer", ratios, least))
    return out


def _ranged(what: str, ratios: list[float], least: float) -> str:
    middle = statistics.median(ratios)
    return _target(
        what,
        middle >= least,
        f"median {middle:.2f}x, {min(ratios):.2f}-{max(ratios):.2f}x over {len(ratios)} rounds",
    )


def _target(what: str, met: bool, figures: str) -> str:
    return f"- {'MET' if met else 'NOT MET'}: {what} ({figures})"


def render(
    rows: list[Any], every_run: list[Any], info: dict[str, str], settings: Any, started: datetime
) -> str:
    """RESULTS.md: ``rows`` holds the median round per scenario, ``every_run`` all of them."""
    machine = "\n".join(f"| {key} | {value} |" for key, value in info.items())
    s = settings
    large = f"{s.large_token_count:,}" + (" (--quick: not 1,000,000)" if s.quick else "")
    classes = ", ".join(s.worker_classes)
    loads = [r.load for r in every_run]
    return f"""# Benchmark results

Measured {started:%Y-%m-%d %H:%M} UTC with `{s.command}`
(see [docs/benchmarks.md](../docs/benchmarks.md)). Only measured numbers appear here. The
machine is shared: the 1-minute load average before each run is shown beside it (here
{min(loads):.2f} to {max(loads):.2f}).

## Machine

| what | value |
|---|---|
{machine}

## Settings

- gunicorn with `gunicorn.conf.py` (the shipped settings); WEB_CONCURRENCY={s.workers},
  GUNICORN_THREADS={s.threads}; worker class: {classes} (gthread is the shipped worker,
  gunicorn.conf.py's head-buffering gthread subclass); on loopback.
- wrk: 1 thread, {s.connections} connections, {s.duration} s per run after a {s.warmup} s
  warm-up, on the same machine as the server (it takes CPU from the workers).
- App: as shipped (request log at LOG_LEVEL={s.log_level}, security headers, CORS), with
  PLUGIN_BASE_URL set to the server's own origin as in production, except
  RATELIMIT_ENABLED=false (the per-minute limits would answer 429). The scenarios ending in
  "{LIMITS_ON}" are production's configuration instead (PostgreSQL only): rate limits on,
  counted in Redis (REDIS_URL, a key prefix of the run's own), with API_RATE_LIMIT and
  TOKEN_RATE_LIMIT raised so far that none is reached; their targets compare them with the
  same scenario with limits off in the same round.
- Data: {s.users} people x {s.todos_per_user} todos; listTodos answers the default page of 20.
  Stored tokens: 1,000, then {large}; refresh pool {s.refresh_pool:,} tokens per round.
- Peer: `bench/authlib_peer.py`, a plain Flask + Authlib app in the style of Authlib's
  example server (its mixins, its validator, its refresh grant), same gunicorn settings and
  database, doing the same work as getMe (`/api/me`), listTodos (`/api/todos`, a page of 20)
  and the refresh grant, without the app's safety features. "vs peer" compares each of those
  scenarios with the peer's run of the same work.
- {s.repeat} round(s); in each, bare Flask, the peer and the app are served one after the
  other and the ratios are taken within the round. "vs bare" and "vs peer" divide req/s by the
  ceiling's in that round. The first table shows, per scenario, the round with the median ratio.
- "server CPU ms/req": CPU time of the gunicorn master and workers during the run divided
  by the requests served; it excludes PostgreSQL's and wrk's CPU and moves less with load.

## Results (median round)

{table(rows)}

## Targets

{chr(10).join(verdicts(rows))}
{chr(10).join(round_verdicts(every_run))}

## Every run

{table(every_run)}
"""


def with_kept_notes(text: str, path: Path) -> str:
    """Append the hand-written Notes section of the existing file, so a rerun keeps it."""
    if path.exists():
        old = path.read_text()
        if NOTES_HEADING in old:
            return text + "\n" + old[old.index(NOTES_HEADING) :]
    return text
