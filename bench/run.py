"""Load-test the app under gunicorn with wrk, beside bare Flask and Authlib's example style.

    python bench/run.py [--quick] [--db sqlite|postgresql|both] [--workers N] [--rounds N]
                        [--worker-class sync|gthread|both] [--threads N] [--scenarios A,B]

Creates a fresh database (a SQLite file in a temporary folder, or a new PostgreSQL database
that is dropped at the end), migrates and seeds it, and in each round serves, one after the
other with the same gunicorn.conf.py on a free loopback port: the bare Flask app (the
ceiling), the peer (bench/authlib_peer.py, a plain Flask + Authlib app) and the app. It
measures getMe beside the peer's /api/me, listTodos, an MCP tools/call of listTodos, the
refresh-token grant and introspection, first with 1,000 and then with 1,000,000 stored
tokens. On PostgreSQL each round also serves the production configuration, rate limits on
Redis, and measures getMe and the MCP call there beside the same calls with limits off.
Ratios are taken within a round, and their median over the rounds is reported.
Prints the tables and writes bench/RESULTS.md. See docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import base64
import os
import secrets
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import authlib_peer
import machine
import redis
import report
import seed
import sqlalchemy as sa
from server import ROOT, Server, gunicorn, server_env
from wrk import WrkResult, run_wrk

POSTGRES_ADMIN_URL = os.environ.get(
    "BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")
SMALL_TOKEN_COUNT = 1_000
# Production's settings with the per-minute limits raised so far that no 429 is answered:
# every call is counted in Redis as in production, none is refused.
NEVER_REACHED = "1000000000 per minute"


def limits_on_env(key_prefix: str) -> dict[str, str]:
    """Production's rate limits, counted in Redis under ``key_prefix``, none ever reached."""
    return {
        "RATELIMIT_ENABLED": "true",
        "REDIS_URL": REDIS_URL,
        "RATELIMIT_KEY_PREFIX": key_prefix,
        "API_RATE_LIMIT": NEVER_REACHED,
        "TOKEN_RATE_LIMIT": NEVER_REACHED,
    }


LIMITS_ON = report.LIMITS_ON
# The app's scenarios in the order each round measures them.
APP_SCENARIOS = ("getMe", "listTodos", "MCP tools/call listTodos", "refresh grant", "introspect")


@dataclass
class Settings:
    quick: bool
    databases: list[str]
    worker_classes: list[str]
    workers: int
    threads: int
    connections: int
    duration: int
    warmup: int
    users: int
    todos_per_user: int
    large_token_count: int
    log_level: str
    repeat: int
    command: str
    limits_on: bool = True
    # The app's scenarios to measure (bare Flask always, the peer's where one is compared).
    scenarios: tuple[str, ...] = APP_SCENARIOS

    @property
    def filtered(self) -> bool:
        return self.scenarios != APP_SCENARIOS

    def measures(self, scenario: str) -> bool:
        if scenario in APP_SCENARIOS:
            return scenario in self.scenarios
        # A peer scenario: measured when the app's scenario it is compared with is.
        return any(report.PEER_SCENARIO.get(ours) == scenario for ours in self.scenarios)

    @property
    def refresh_pool(self) -> int:
        # Each grant uses one refresh token; two cores stay far below 1,500 grants/s.
        return max(3_000, 1_500 * self.duration)


@dataclass
class Row:
    database: str
    worker_class: str
    scenario: str
    phase: str  # "small" (1,000 stored tokens) or "large"
    stored_tokens: int
    result: WrkResult
    bare_rps: float
    peak_rss_mb: float
    load: float
    cpu_ms: float  # the server's CPU time per request (workers and master; not the database's)
    round: int = 0
    peer_rps: float = float("nan")
    bare_cpu_ms: float = float("nan")
    peer_cpu_ms: float = float("nan")
    # A "limits on Redis" row's counterpart with limits off, in the same round.
    off_rps: float = float("nan")
    off_cpu_ms: float = float("nan")

    @property
    def limits_ratio(self) -> float:
        return self.result.requests_per_second / self.off_rps if self.off_rps else float("nan")

    @property
    def ratio(self) -> float:
        return self.result.requests_per_second / self.bare_rps if self.bare_rps else float("nan")

    @property
    def peer_ratio(self) -> float:
        return self.result.requests_per_second / self.peer_rps if self.peer_rps else float("nan")


def parse_args(argv: list[str] | None) -> Settings:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--quick",
        action="store_true",
        help="3 s runs and 100,000 instead of 1,000,000 stored tokens",
    )
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--workers", type=int, default=2, help="WEB_CONCURRENCY")
    parser.add_argument(
        "--worker-class",
        choices=["sync", "gthread", "both"],
        default="gthread",
        help="gthread: gunicorn.conf.py's own worker (a gthread subclass); sync: gunicorn's sync",
    )
    parser.add_argument("--threads", type=int, default=1, help="GUNICORN_THREADS (gthread)")
    parser.add_argument(
        "--connections",
        type=int,
        default=None,
        help="wrk connections (default: 2 per worker thread)",
    )
    parser.add_argument("--duration", type=int, default=None, help="seconds per measured run")
    parser.add_argument("--users", type=int, default=10)
    parser.add_argument(
        "--rounds",
        "--repeat",
        dest="repeat",
        type=int,
        default=3,
        help="measure everything N times, bare, peer and app taking turns, "
        "and report the median ratio",
    )
    parser.add_argument(
        "--scenarios",
        default=",".join(APP_SCENARIOS),
        help="comma-separated app scenarios to measure (default: all); a filtered run "
        "prints its table and leaves bench/RESULTS.md alone",
    )
    parser.add_argument(
        "--log-level",
        default="INFO",
        help="the app's LOG_LEVEL (INFO, the default, logs every request)",
    )
    parser.add_argument(
        "--no-limits-on",
        dest="limits_on",
        action="store_false",
        help="skip the production configuration (PostgreSQL, rate limits on Redis)",
    )
    args = parser.parse_args(argv)
    workers = args.workers
    chosen = [name.strip() for name in args.scenarios.split(",") if name.strip()]
    unknown = [name for name in chosen if name not in APP_SCENARIOS]
    if unknown or not chosen:
        parser.error(f"--scenarios: choose among {', '.join(APP_SCENARIOS)}")
    return Settings(
        quick=args.quick,
        databases=["sqlite", "postgresql"] if args.db == "both" else [args.db],
        worker_classes=["sync", "gthread"] if args.worker_class == "both" else [args.worker_class],
        workers=workers,
        threads=args.threads,
        connections=args.connections or 2 * workers * args.threads,
        duration=args.duration or (3 if args.quick else 6),
        warmup=1 if args.quick else 2,
        users=args.users,
        todos_per_user=50,
        large_token_count=100_000 if args.quick else 1_000_000,
        log_level=args.log_level,
        repeat=max(1, args.repeat),
        limits_on=args.limits_on,
        command=" ".join(["python bench/run.py", *(sys.argv[1:] if argv is None else argv)]),
        scenarios=tuple(name for name in APP_SCENARIOS if name in chosen),
    )


@contextmanager
def fresh_database(kind: str, folder: Path) -> Iterator[str]:
    if kind == "sqlite":
        yield f"sqlite:///{folder / 'bench.db'}"
        return
    admin = sa.create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    name = f"plugin_bench_{secrets.token_hex(6)}"
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield (
            sa.make_url(POSTGRES_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
        )
    finally:
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def require_postgres() -> None:
    """Stop with one line, before any work, when PostgreSQL cannot be reached."""
    engine = sa.create_engine(POSTGRES_ADMIN_URL)
    try:
        with engine.connect():
            pass
    except sa.exc.OperationalError as error:
        raise SystemExit(
            f"PostgreSQL is not reachable at {POSTGRES_ADMIN_URL} "
            f"({error.orig.__class__.__name__}): start it, set BENCH_POSTGRES_URL "
            "or use --db sqlite"
        ) from None
    finally:
        engine.dispose()


def require_redis() -> None:
    """Stop with one line, before any work, when the production configuration's Redis is
    not reachable."""
    try:
        with redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2) as connection:
            connection.ping()
    except redis.RedisError as error:
        raise SystemExit(
            f"Redis is not reachable at {REDIS_URL} ({error.__class__.__name__}): start it, "
            "set BENCH_REDIS_URL or use --no-limits-on"
        ) from None


def forget_counts(prefix: str) -> None:
    """Delete the rate-limit counters a run left in Redis under its own key prefix."""
    with redis.Redis.from_url(REDIS_URL) as connection:
        keys = list(connection.scan_iter(match=f"*{prefix}*", count=1000))
        if keys:
            connection.delete(*keys)


def migrate(env: dict[str, str]) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "plugin", "db", "upgrade"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"flask db upgrade failed:\n{done.stderr.strip()}")


class Bench:
    """One database: seed it, then measure bare Flask, the peer and the app in turns."""

    def __init__(self, kind: str, url: str, settings: Settings, folder: Path) -> None:
        from plugin import create_app

        self.kind, self.url, self.settings, self.folder = kind, url, settings, folder
        self.rows: list[Row] = []
        self.phase = "small"
        self.round = 0
        self.ceilings: dict[tuple[str, int, str, str], Row] = {}
        self.env = server_env(
            url,
            folder / "instance",
            workers=settings.workers,
            worker_class="gthread",
            threads=settings.threads,
            log_level=settings.log_level,
        )
        migrate(self.env)
        # Production: PostgreSQL, rate limits on Redis (under a key prefix of this run's own).
        self.limits_on = settings.limits_on and kind == "postgresql"
        self.limits_env = limits_on_env(f"bench-{secrets.token_hex(6)}")
        self.app = create_app({"DATABASE_URL": url, "SECRET_KEY": self.env["SECRET_KEY"]})

    def run(self) -> list[Row]:
        s = self.settings
        say(f"[{self.kind}] seeding {s.users} people x {s.todos_per_user} todos")
        self.seeded = seed.seed_base(self.app, users=s.users, todos_per_user=s.todos_per_user)
        seed.fill_tokens(self.app, self.seeded, SMALL_TOKEN_COUNT)
        self.bearer_file = self._write("bearer.txt", self.seeded.access_tokens)
        self.peer_app = authlib_peer.create_app(self.url)
        self.peer = authlib_peer.seed(self.peer_app, users=s.users, todos_per_user=s.todos_per_user)
        self.peer_file = self._write("peer.txt", self.peer.access_tokens)
        for phase in ("small", "large"):
            if phase == "large":
                started = time.monotonic()
                added = seed.fill_tokens(self.app, self.seeded, s.large_token_count)
                say(
                    f"[{self.kind}] stored {added:,} more tokens in "
                    f"{time.monotonic() - started:.1f}s"
                )
            self.phase = phase
            # Bare Flask, the peer and the app take turns, so that a change in the machine's
            # load hits all three alike; ratios are taken within a round.
            for self.round in range(s.repeat):
                for worker_class in s.worker_classes:
                    self._round(worker_class)
        return self.rows

    def _round(self, worker_class: str) -> None:
        s = self.settings
        self._ceilings(
            worker_class,
            "bench.bare_app:app",
            [("bare Flask", "/", "bearer.lua", self.bearer_file)],
        )
        peer_runs = [
            ("peer /api/me", "/api/me", "bearer.lua", self.peer_file),
            ("peer /api/todos", "/api/todos", "bearer.lua", self.peer_file),
        ]
        if s.measures("peer refresh grant"):
            peer_refresh = authlib_peer.refresh_pool(self.peer_app, s.refresh_pool)
            peer_refresh_file = self._write("peer-refresh.txt", peer_refresh)
            peer_runs.append(("peer refresh grant", "/", "refresh.lua", peer_refresh_file))
        peer_runs = [run for run in peer_runs if s.measures(run[0])]
        if peer_runs:
            self._ceilings(worker_class, "bench.authlib_peer:app", peer_runs, basic=self.peer.basic)
        if s.measures("refresh grant") or s.measures("introspect"):
            pool = seed.issue_pool(self.app, self.seeded, s.refresh_pool)
            refresh_file = self._write("refresh.txt", [r for _, r in pool])
            access_file = self._write("access.txt", [a for a, _ in pool[:2_000]])
        # Limits on and off take turns at going first, so neither always meets the same load.
        if self.limits_on and self.round % 2:
            self._limits_on_round(worker_class)
        with self._serve(worker_class, "wsgi:app") as server:
            self._warm_up(server, "/api/todos", "bearer.lua", self.bearer_file)
            if s.measures("getMe"):
                self._measure(server, worker_class, "getMe", "/api/me", "bearer.lua")
            if s.measures("listTodos"):
                self._measure(server, worker_class, "listTodos", "/api/todos", "bearer.lua")
            self._measure_mcp(server, worker_class)
            if s.measures("refresh grant"):
                self._measure(
                    server, worker_class, "refresh grant", "/", "refresh.lua", tokens=refresh_file
                )
            if s.measures("introspect"):
                self._measure(
                    server, worker_class, "introspect", "/", "introspect.lua", tokens=access_file
                )
        if self.limits_on and not self.round % 2:
            self._limits_on_round(worker_class)

    def _limits_on_round(self, worker_class: str) -> None:
        """getMe and the MCP call served as production serves them: rate limits on Redis."""
        with self._serve(worker_class, "wsgi:app", self.limits_env) as server:
            if self.settings.measures("getMe"):
                self._warm_up(server, "/api/me", "bearer.lua", self.bearer_file)
                self._measure(server, worker_class, "getMe" + LIMITS_ON, "/api/me", "bearer.lua")
            self._measure_mcp(server, worker_class, LIMITS_ON)

    def _measure_mcp(self, server: Server, worker_class: str, suffix: str = "") -> None:
        """The MCP call, with tokens bound to this server's /mcp (its port changes every
        start), when the run measures it."""
        if not self.settings.measures("MCP tools/call listTodos"):
            return
        mcp_file = self._write("mcp.txt", self._mcp_tokens(server.url + "/mcp"))
        self._warm_up(server, "/mcp", "mcp_call.lua", mcp_file)
        self._measure(
            server,
            worker_class,
            "MCP tools/call listTodos" + suffix,
            "/mcp",
            "mcp_call.lua",
            tokens=mcp_file,
        )

    def _mcp_tokens(self, resource: str) -> list[str]:
        """One token per person bound to this server's /mcp (its port changes every start)."""
        from plugin.accounts.models import User
        from plugin.extensions import db
        from plugin.oauth.models import OAuthClient
        from plugin.oauth.tokens.issue import issue_tokens

        with self.app.app_context():
            client = db.session.get(OAuthClient, self.seeded.client_row_id)
            values = [
                issue_tokens(client, db.session.get(User, user_id), seed.SCOPE, resource=resource)[
                    "access_token"
                ]
                for user_id in self.seeded.user_ids
            ]
            db.session.commit()
        return values

    def _write(self, name: str, values: list[str]) -> Path:
        path = self.folder / name
        path.write_text("\n".join(values) + "\n")
        return path

    def _serve(self, worker_class: str, app: str, settings: dict[str, str] | None = None):
        env = {**self.env, **(settings or {})}
        if worker_class == "gthread":
            # What production runs: gunicorn.conf.py's own choice, gthread's head-buffering
            # subclass (plugin/gthread_worker.py), not gunicorn's plain gthread.
            env.pop("GUNICORN_WORKER_CLASS", None)
        else:
            env["GUNICORN_WORKER_CLASS"] = worker_class
        return gunicorn(app, env, self.folder / f"gunicorn-{self.kind}-{worker_class}.log")

    def _wrk_env(self, tokens: Path, basic: str | None = None) -> dict[str, str]:
        if basic is None:
            credentials = f"{self.seeded.client_id}:{self.seeded.client_secret}".encode()
            basic = base64.b64encode(credentials).decode()
        return {
            **os.environ,
            "BENCH_TOKENS": str(tokens),
            "BENCH_TOOL": "listTodos",
            "BENCH_BASIC": basic,
        }

    def _warm_up(self, server: Server, path: str, script: str, tokens: Path) -> None:
        if script == "refresh.lua":
            return  # each refresh token works once: the measured run must have them all
        run_wrk(
            server.url + path,
            script,
            duration=self.settings.warmup,
            connections=self.settings.connections,
            env=self._wrk_env(tokens),
        )

    def _ceilings(
        self,
        worker_class: str,
        app: str,
        runs: list[tuple[str, str, str, Path]],
        *,
        basic: str | None = None,
    ) -> None:
        """Serve ``app`` and measure its (scenario, path, script, tokens) runs, for the
        app's rows of this round to be compared with."""
        with self._serve(worker_class, app) as server:
            _, path, script, tokens = runs[0]
            self._warm_up(server, path, script, tokens)
            for scenario, path, script, tokens in runs:
                row = self._measure(
                    server, worker_class, scenario, path, script, tokens=tokens, basic=basic
                )
                self.ceilings[(self.phase, self.round, worker_class, scenario)] = row

    def _measure(
        self,
        server: Server,
        worker_class: str,
        scenario: str,
        path: str,
        script: str,
        *,
        tokens: Path | None = None,
        basic: str | None = None,
    ) -> Row:
        load = os.getloadavg()[0]
        cpu_before = server.cpu_seconds()
        result = run_wrk(
            server.url + path,
            script,
            duration=self.settings.duration,
            connections=self.settings.connections,
            env=self._wrk_env(tokens or self.bearer_file, basic),
        )
        cpu = server.cpu_seconds() - cpu_before
        ours = scenario != "bare Flask" and not scenario.startswith("peer ")
        stored = seed.token_count(self.app) if ours else 0
        bare = self.ceilings.get((self.phase, self.round, worker_class, "bare Flask"))
        peer = self.ceilings.get(
            (self.phase, self.round, worker_class, report.PEER_SCENARIO.get(scenario, ""))
        )
        cpu_ms = cpu * 1000 / max(result.requests, 1)
        row = Row(
            self.kind,
            worker_class,
            scenario,
            self.phase,
            stored,
            result,
            bare.result.requests_per_second if bare else result.requests_per_second,
            server.peak_rss_mb(),
            load,
            cpu_ms,
            round=self.round,
            peer_rps=peer.result.requests_per_second if peer else float("nan"),
            bare_cpu_ms=bare.cpu_ms if bare else cpu_ms,
            peer_cpu_ms=peer.cpu_ms if peer else float("nan"),
        )
        self.rows.append(row)
        say(report.line(row))
        return row


def pair_limits_on(rows: list[Row]) -> None:
    """Give each "limits on Redis" row the req/s and CPU of its scenario with limits off in
    the same round."""
    off = {(r.database, r.worker_class, r.phase, r.round, r.scenario): r for r in rows}
    for row in rows:
        if row.scenario.endswith(LIMITS_ON):
            name = row.scenario.removesuffix(LIMITS_ON)
            twin = off.get((row.database, row.worker_class, row.phase, row.round, name))
            if twin is not None:
                row.off_rps = twin.result.requests_per_second
                row.off_cpu_ms = twin.cpu_ms


def _ranking(row: Row) -> float:
    if row.scenario.endswith(LIMITS_ON):
        return row.limits_ratio
    return row.peer_ratio if row.scenario == "getMe" else row.ratio


def medians(rows: list[Row]) -> list[Row]:
    """Per configuration and scenario, the round with the median ratio (the lower of two
    middles): getMe's to the peer in the same round, a "limits on Redis" scenario's to the
    same scenario with limits off, every other scenario's to bare Flask."""
    groups: dict[tuple, list[Row]] = {}
    for row in rows:
        groups.setdefault((row.database, row.worker_class, row.scenario, row.phase), []).append(row)
    chosen = []
    for group in groups.values():
        ranked = sorted(group, key=_ranking)
        chosen.append(ranked[(len(ranked) - 1) // 2])
    return chosen


def say(text: str) -> None:
    print(text, flush=True)


def main(argv: list[str] | None = None) -> int:
    settings = parse_args(argv)
    if "postgresql" in settings.databases:
        require_postgres()
        if settings.limits_on:
            require_redis()
    started = datetime.now(UTC)
    with tempfile.TemporaryDirectory(prefix="plugin-bench-") as tmp:
        folder = Path(tmp)
        # The app built here for seeding must not touch the repository's instance folder.
        os.environ["PLUGIN_INSTANCE_PATH"] = str(folder / "instance")
        rows: list[Row] = []
        for kind in settings.databases:
            kind_folder = folder / kind
            kind_folder.mkdir()
            with fresh_database(kind, kind_folder) as url:
                bench = Bench(kind, url, settings, kind_folder)
                try:
                    rows += bench.run()
                finally:
                    if bench.limits_on:
                        forget_counts(bench.limits_env["RATELIMIT_KEY_PREFIX"])
                    with bench.app.app_context():
                        from plugin.extensions import db

                        db.session.remove()
                        db.engine.dispose()
    uses_postgres = "postgresql" in settings.databases
    info = machine.describe(POSTGRES_ADMIN_URL if uses_postgres else None)
    pair_limits_on(rows)
    summary = medians(rows)
    text = report.render(summary, rows, info, settings, started)
    say("")
    say(report.table(summary))
    say("")
    say("\n".join(report.verdicts(summary) + report.round_verdicts(rows)))
    if settings.filtered:
        say("\n(a run of some scenarios only: bench/RESULTS.md left as it was)")
        return 0
    path = ROOT / "bench" / "RESULTS.md"
    path.write_text(report.with_kept_notes(text, path))
    say(f"\nwrote {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
