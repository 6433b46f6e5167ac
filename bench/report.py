"""The results table, the targets verdict and bench/RESULTS.md."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import Any

NOTES_HEADING = "## Notes"
HEADER = (
    "| database | workers | scenario | stored tokens | req/s | p50 ms | p99 ms | non-2xx "
    "| socket errors | vs bare | server CPU ms/req | peak RSS/worker MiB | load (1 min) |"
)


def line(row: Any) -> str:
    r = row.result
    flag = "  <-- FAILURES" if r.non_2xx or r.socket_errors else ""
    return (
        f"[{row.database}/{row.worker_class}] {row.scenario:<14} "
        f"{r.requests_per_second:8.0f} req/s "
        f"p50 {r.p50_ms:7.2f} ms  p99 {r.p99_ms:7.2f} ms  non-2xx {r.non_2xx}  "
        f"socket errors {r.socket_errors}  {row.ratio:5.0%} of bare  "
        f"CPU {row.cpu_ms:.2f} ms/req  "
        f"RSS {row.peak_rss_mb:.0f} MiB  load {row.load:.2f}{flag}"
    )


def table(rows: Iterable[Any]) -> str:
    lines = [HEADER, _rule()]
    for row in rows:
        r = row.result
        lines.append(
            f"| {row.database} | {row.worker_class} | {row.scenario} | {row.stored_tokens:,} "
            f"| {r.requests_per_second:,.0f} | {r.p50_ms:.2f} | {r.p99_ms:.2f} "
            f"| {_bad(r.non_2xx)} | {_bad(r.socket_errors)} | {row.ratio:.0%} "
            f"| {row.cpu_ms:.2f} | {row.peak_rss_mb:.0f} | {row.load:.2f} |"
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
    """One line per target and configuration: met or not, with the figures."""
    out = []
    configs = sorted({(r.database, r.worker_class) for r in rows})
    for database, worker_class in configs:
        name = f"{database}/{worker_class}"
        small = _find(rows, database, worker_class, "listTodos", "small")
        large = _find(rows, database, worker_class, "listTodos", "large")
        refresh = _find(rows, database, worker_class, "refresh grant", "large")
        bare = _find(rows, database, worker_class, "bare Flask", "small")
        if small:
            out.append(
                _target(
                    f"{name}: listTodos >= 50% of bare",
                    small.ratio >= 0.5,
                    f"{small.ratio:.0%}{_cpu_ratio(bare, small)}",
                )
            )
        if refresh:
            out.append(
                _target(
                    f"{name}: refresh grant >= 25% of bare",
                    refresh.ratio >= 0.25,
                    f"{refresh.ratio:.0%}{_cpu_ratio(bare, refresh)}",
                )
            )
        if small and large:
            p50 = large.result.p50_ms / small.result.p50_ms - 1
            p99 = large.result.p99_ms / small.result.p99_ms - 1
            out.append(
                _target(
                    f"{name}: listTodos p50 with {large.stored_tokens:,} tokens within 10% of "
                    f"{small.stored_tokens:,}",
                    p50 <= 0.10,
                    f"p50 {small.result.p50_ms:.2f} -> {large.result.p50_ms:.2f} ms ({p50:+.0%}), "
                    f"p99 {small.result.p99_ms:.2f} -> {large.result.p99_ms:.2f} ms ({p99:+.0%}); "
                    f"server CPU {small.cpu_ms:.2f} -> {large.cpu_ms:.2f} ms/req "
                    f"({large.cpu_ms / small.cpu_ms - 1:+.0%})",
                )
            )
    failures = sum(r.result.non_2xx + r.result.socket_errors for r in rows)
    out.append(
        _target(
            "zero non-2xx responses and socket errors", failures == 0, f"{failures} in all runs"
        )
    )
    out.extend(_worker_comparison(rows))
    return out


def _cpu_ratio(bare: Any, row: Any) -> str:
    # Server CPU per request barely moves with the machine's load, unlike req/s.
    if bare is None or not row.cpu_ms:
        return ""
    return f"; by server CPU per request {bare.cpu_ms / row.cpu_ms:.0%}"


def _target(what: str, met: bool, figures: str) -> str:
    return f"- {'MET' if met else 'NOT MET'}: {what} ({figures})"


def _worker_comparison(rows: list[Any]) -> list[str]:
    out = []
    for database in sorted({r.database for r in rows}):
        sync = {
            (r.scenario, r.phase == "large"): r
            for r in rows
            if r.database == database and r.worker_class == "sync"
        }
        threaded = {
            (r.scenario, r.phase == "large"): r
            for r in rows
            if r.database == database and r.worker_class == "gthread"
        }
        common = sorted(set(sync) & set(threaded))
        if not common:
            continue
        parts = []
        for key in common:
            t, y = threaded[key], sync[key]
            gain = t.result.requests_per_second / y.result.requests_per_second
            cpu = t.cpu_ms / y.cpu_ms if y.cpu_ms else float("nan")
            many = " (many tokens)" if key[1] and key[0] == "listTodos" else ""
            parts.append(f"{key[0]}{many} {gain - 1:+.0%} req/s, {cpu - 1:+.0%} CPU/req")
        out.append(f"- {database}: gthread compared with sync: " + "; ".join(parts))
    return out


def render(
    rows: list[Any], every_run: list[Any], info: dict[str, str], settings: Any, started: datetime
) -> str:
    """RESULTS.md: ``rows`` holds one (median) run per configuration, ``every_run`` all runs."""
    machine = "\n".join(f"| {key} | {value} |" for key, value in info.items())
    s = settings
    large = f"{s.large_token_count:,}" + (" (--quick: not 1,000,000)" if s.quick else "")
    classes = ", ".join(s.worker_classes)
    every = " (every run is listed at the end)" if s.repeat > 1 else ""
    return f"""# Benchmark results

Measured {started:%Y-%m-%d %H:%M} UTC with `{s.command}`
(see [docs/benchmarks.md](../docs/benchmarks.md)). Only measured numbers appear here; the
machine is shared, so the 1-minute load average before each run is shown beside it.

## Machine

| what | value |
|---|---|
{machine}

## Settings

- gunicorn with `gunicorn.conf.py` (production settings, incl. `max_requests` recycling);
  WEB_CONCURRENCY={s.workers}, GUNICORN_THREADS={s.threads}; worker classes: {classes}.
- wrk: 1 thread, {s.connections} connections, {s.duration} s per run after a {s.warmup} s warm-up,
  on the same machine as the server (it takes CPU from the workers).
- App: RATELIMIT_ENABLED=false, LOG_LEVEL={s.log_level} (one log line per request at INFO).
- Data: {s.users} people x {s.todos_per_user} todos; listTodos answers the default page.
  Stored tokens: 1,000, then {large}; refresh pool {s.refresh_pool:,} tokens per worker class.
- "vs bare": req/s divided by the bare Flask app's (bench/bare_app.py) under the same settings.
- Each configuration was measured {s.repeat} time(s), the worker classes taking turns; the
  table shows the run with the median req/s{every}.
- "server CPU ms/req": CPU time of the gunicorn master and workers (recycled ones included)
  during the run, divided by the requests served. It excludes PostgreSQL's and wrk's CPU and,
  unlike req/s, hardly depends on what else the machine is doing.

## Results

{table(rows)}

## Targets

{chr(10).join(verdicts(rows))}
""" + (
        f"""
## Every run

{table(every_run)}
"""
        if settings.repeat > 1
        else ""
    )


def with_kept_notes(text: str, path: Path) -> str:
    """Append the hand-written Notes section of the existing file, so a rerun keeps it."""
    if path.exists():
        old = path.read_text()
        if NOTES_HEADING in old:
            return text + "\n" + old[old.index(NOTES_HEADING) :]
    return text
