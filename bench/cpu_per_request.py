"""CPU time per request in-process, each scenario beside the bare Flask app and the peer.

    python bench/cpu_per_request.py [--db sqlite|postgresql] [--requests 500] [--rounds 5]
                                    [--scenario NAME ...] [--stored-tokens N]

No HTTP server and no other process: the test client calls each app in a loop and
``time.process_time`` measures this process only, so other work on a shared machine moves
the figures far less than it moves req/s. Scenarios take turns in blocks of ``--requests``
calls, ``--rounds`` times; the median block is reported, with its ratio to the bare app and
(for getMe) to the peer's ``/api/me``. Settings as in bench/run.py: logging at INFO (to a
file), rate limits off, security headers on. Used to decide each change in docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import authlib_peer
import bare_app
import seed
from run import fresh_database, migrate
from server import BASE_URL, server_env

MCP_HEADERS = {
    "Content-Type": "application/json",
    "Accept": "application/json, text/event-stream",
    "MCP-Protocol-Version": "2025-11-25",
}
MCP_LIST_TODOS = json.dumps(
    {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "tools/call",
        "params": {"name": "listTodos", "arguments": {}},
    }
)


def build(db_kind: str, url: str, folder: Path, stored_tokens: int, pool: int):
    env = server_env(
        url, folder / "instance", workers=1, worker_class="gthread", threads=1, log_level="INFO"
    )
    migrate(env)
    os.environ.update({k: env[k] for k in ("RATELIMIT_ENABLED", "LOG_LEVEL")})
    from plugin import create_app
    from plugin.extensions import db
    from plugin.oauth.models import OAuthClient
    from plugin.oauth.tokens.issue import issue_tokens

    app = create_app(
        {"DATABASE_URL": url, "SECRET_KEY": env["SECRET_KEY"], "PLUGIN_BASE_URL": BASE_URL}
    )
    seeded = seed.seed_base(app, users=10, todos_per_user=50)
    seed.fill_tokens(app, seeded, stored_tokens)
    refresh = [r for _, r in seed.issue_pool(app, seeded, pool)]
    with app.app_context():
        from plugin.accounts.models import User

        client = db.session.get(OAuthClient, seeded.client_row_id)
        user = db.session.get(User, seeded.user_ids[0])
        mcp_token = issue_tokens(client, user, seed.SCOPE, resource=BASE_URL + "/mcp")
        db.session.commit()
    peer = authlib_peer.create_app(url)
    peer_seeded = authlib_peer.seed(peer, users=10)
    peer_calls = PeerCalls(
        peer_seeded.access_tokens[0], peer_seeded.basic, authlib_peer.refresh_pool(peer, pool)
    )
    basic = base64.b64encode(f"{seeded.client_id}:{seeded.client_secret}".encode()).decode()
    return app, peer, seeded, refresh, mcp_token["access_token"], peer_calls, basic, db


@dataclass
class PeerCalls:
    """What calls to the peer present: a bearer token, client credentials, refresh tokens."""

    access_token: str
    basic: str
    refresh: list[str]


def scenarios(app, peer, seeded, refresh, mcp_token, peer_calls, basic) -> dict[str, Callable]:
    return calls_for(app, peer, seeded.access_tokens[0], peer_calls, mcp_token, refresh, basic)


def calls_for(
    app,
    peer,
    access_token: str,
    peer_calls: PeerCalls,
    mcp_token: str,
    refresh: list[str],
    basic: str,
) -> dict[str, Callable]:
    """One call per scenario on the test clients (bench/instructions.py measures the same)."""
    client, peer_client = app.test_client(), peer.test_client()
    bare = bare_app.app.test_client()
    bearer = {"Authorization": f"Bearer {access_token}"}
    peer_bearer = {"Authorization": f"Bearer {peer_calls.access_token}"}

    def refresh_grant(test_client, credentials: str, pool: Iterator[str]) -> Callable:
        # Each refresh token works once.
        return lambda: test_client.post(
            "/oauth/token",
            headers={"Authorization": f"Basic {credentials}"},
            data={"grant_type": "refresh_token", "refresh_token": next(pool)},
        )

    return {
        "bare": lambda: bare.get("/"),
        "peer /api/me": lambda: peer_client.get("/api/me", headers=peer_bearer),
        "peer /api/todos": lambda: peer_client.get("/api/todos", headers=peer_bearer),
        "peer refresh grant": refresh_grant(
            peer_client, peer_calls.basic, iter(peer_calls.refresh)
        ),
        "getMe": lambda: client.get("/api/me", headers=bearer),
        "listTodos": lambda: client.get("/api/todos", headers=bearer),
        "mcp listTodos": lambda: client.post(
            "/mcp",
            data=MCP_LIST_TODOS,
            headers={**MCP_HEADERS, "Authorization": f"Bearer {mcp_token}"},
        ),
        "refresh grant": refresh_grant(client, basic, iter(refresh)),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--stored-tokens", type=int, default=1_000)
    parser.add_argument("--scenario", action="append", help="only these (repeatable)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="plugin-cpu-") as tmp:
        folder = Path(tmp)
        os.environ["PLUGIN_INSTANCE_PATH"] = str(folder / "instance")
        with fresh_database(args.db, folder) as url:
            pool = args.requests * (args.rounds + 1) + 10
            app, peer, seeded, refresh, mcp, peer_calls, basic, db = build(
                args.db, url, folder, args.stored_tokens, pool
            )
            calls = scenarios(app, peer, seeded, refresh, mcp, peer_calls, basic)
            wanted = [
                name
                for name in calls
                if not args.scenario or name in args.scenario or name == "bare"
            ]
            times: dict[str, list[float]] = {name: [] for name in wanted}
            log = open(folder / "app.log", "w")
            with contextlib.redirect_stderr(log):
                for name in wanted:  # warm up: statement caches, imports, the MCP runner
                    for _ in range(30):
                        status = calls[name]().status_code
                    assert status == 200, (name, status)
                for _ in range(args.rounds):
                    for name in wanted:
                        call = calls[name]
                        started = time.process_time()
                        for _ in range(args.requests):
                            call()
                        times[name].append((time.process_time() - started) / args.requests)
            log.close()
            bare = statistics.median(times["bare"])
            peer_ms = statistics.median(times.get("peer /api/me") or [float("nan")])
            print(
                f"{args.db}, {args.stored_tokens:,} stored tokens, {args.rounds} x "
                f"{args.requests} calls, load {os.getloadavg()[0]:.2f}"
            )
            print("| scenario | CPU ms/request (median) | blocks | vs bare | vs peer |")
            print("|---|---|---|---|---|")
            for name, values in times.items():
                median = statistics.median(values)
                spread = ", ".join(f"{v * 1000:.3f}" for v in values)
                print(
                    f"| {name} | {median * 1000:.3f} | {spread} | {bare / median:.2f} "
                    f"| {peer_ms / median:.2f} |"
                )
            with app.app_context():
                db.session.remove()
                db.engine.dispose()
            with peer.app_context():
                authlib_peer.db.session.remove()
                authlib_peer.db.engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
