"""Instructions per request under callgrind: a measure other work on the machine cannot move.

    python bench/instructions.py [--requests 200] [--scenario NAME ...] [--tree DIR]

Seeds a SQLite database once (outside valgrind), then for each scenario runs the app in-process
under ``valgrind --tool=callgrind`` twice, with a few calls and with ``--requests`` more after
the same warm-up; the difference of the two totals, divided by the extra calls, is the cost of
one call, start-up excluded. ``--tree`` measures another checkout of the code (its ``plugin``
package) with this benchmark, for before/after comparisons. See docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

from server import BASE_URL, ROOT

SCENARIOS = (
    "bare",
    "peer /api/me",
    "peer /api/todos",
    "peer refresh grant",
    "getMe",
    "listTodos",
    "mcp listTodos",
    "refresh grant",
)


def prepare(folder: Path, pool: int) -> Path:
    """Seed the database and write what the scenarios need next to it."""
    import authlib_peer
    import seed
    from run import migrate
    from server import server_env

    url = f"sqlite:///{folder / 'bench.db'}"
    env = server_env(
        url, folder / "instance", workers=1, worker_class="gthread", threads=1, log_level="INFO"
    )
    migrate(env)
    os.environ["PLUGIN_INSTANCE_PATH"] = str(folder / "instance")
    from plugin import create_app
    from plugin.accounts.models import User
    from plugin.extensions import db
    from plugin.oauth.models import OAuthClient
    from plugin.oauth.tokens.issue import issue_tokens

    app = create_app(
        {"DATABASE_URL": url, "SECRET_KEY": env["SECRET_KEY"], "PLUGIN_BASE_URL": BASE_URL}
    )
    seeded = seed.seed_base(app, users=10, todos_per_user=50)
    seed.fill_tokens(app, seeded, 1_000)
    refresh = [r for _, r in seed.issue_pool(app, seeded, pool)]
    with app.app_context():
        client = db.session.get(OAuthClient, seeded.client_row_id)
        user = db.session.get(User, seeded.user_ids[0])
        mcp = issue_tokens(client, user, seed.SCOPE, resource=BASE_URL + "/mcp")
        db.session.commit()
    peer = authlib_peer.create_app(url)
    peer_seeded = authlib_peer.seed(peer, users=10)
    facts = {
        "url": url,
        "secret_key": env["SECRET_KEY"],
        "instance": str(folder / "instance"),
        "access_token": seeded.access_tokens[0],
        "mcp_token": mcp["access_token"],
        "peer_token": peer_seeded.access_tokens[0],
        "peer_basic": peer_seeded.basic,
        "peer_refresh": authlib_peer.refresh_pool(peer, pool),
        "basic": [seeded.client_id, seeded.client_secret],
        "refresh": refresh,
    }
    path = folder / "facts.json"
    path.write_text(json.dumps(facts))
    return path


def drive(
    facts_path: Path, scenarios: list[str], calls: int, offset: int, limits_on: bool = False
) -> None:
    """Run in the measured process: build the apps, then per scenario warm up and make
    ``calls`` calls inside a ctypes callback, the only code callgrind collects."""
    import base64
    import ctypes

    facts = json.loads(facts_path.read_text())
    os.environ.update(
        {
            "PLUGIN_INSTANCE_PATH": facts["instance"],
            "RATELIMIT_ENABLED": "false",
            "LOG_LEVEL": "INFO",
        }
    )
    if limits_on:
        # Production's limiter: every call counted in Redis, no limit ever reached.
        from run import limits_on_env

        os.environ.update(limits_on_env(f"bench-ir-{os.getpid()}"))
    import authlib_peer
    from cpu_per_request import PeerCalls, calls_for

    from plugin import create_app

    app = create_app(
        {
            "DATABASE_URL": facts["url"],
            "SECRET_KEY": facts["secret_key"],
            "PLUGIN_BASE_URL": BASE_URL,
        }
    )
    basic = base64.b64encode(":".join(facts["basic"]).encode()).decode()
    table = calls_for(
        app,
        authlib_peer.create_app(facts["url"]),
        facts["access_token"],
        PeerCalls(facts["peer_token"], facts["peer_basic"], facts["peer_refresh"][offset:]),
        facts["mcp_token"],
        facts["refresh"][offset:],
        basic,
    )
    for scenario in scenarios:
        call = table[scenario]
        for _ in range(20):
            status = call().status_code
        assert status == 200, (scenario, status)

        def loop(call=call) -> None:
            for _ in range(calls):
                call()

        ctypes.CFUNCTYPE(None)(loop)()


def instructions(
    tree: Path,
    facts: Path,
    scenarios: list[str],
    calls: int,
    folder: Path,
    offset: int,
    limits_on: bool = False,
) -> list[int]:
    """Instructions of each scenario's ``calls`` calls, one callgrind dump per scenario."""
    out = folder / f"callgrind.{tree.name}"
    env = {**os.environ, "PYTHONPATH": str(tree), "PYTHONHASHSEED": "0"}
    command = [
        "valgrind",
        "--tool=callgrind",
        f"--callgrind-out-file={out}",
        "--collect-atstart=no",
        "--toggle-collect=_ctypes_callproc",
        "--dump-after=_ctypes_callproc",
        sys.executable,
        __file__,
        "--drive",
        str(facts),
        "--requests",
        str(calls),
        "--offset",
        str(offset),
        *[arg for name in scenarios for arg in ("--scenario", name)],
        *(["--limits-on"] if limits_on else []),
    ]
    done = subprocess.run(command, cwd=tree, env=env, capture_output=True, text=True, check=False)  # noqa: S603
    dumps = sorted(folder.glob(f"{out.name}.*"), key=lambda p: int(p.name.rsplit(".", 1)[1]))
    if done.returncode != 0 or len(dumps) < len(scenarios):
        raise SystemExit(f"valgrind failed\n{done.stderr[-3000:]}")
    totals = []
    for dump in dumps[: len(scenarios)]:
        match = re.search(r"^summary: (\d+)", dump.read_text(), re.MULTILINE)
        totals.append(int(match.group(1)) if match else 0)
        dump.unlink()
    return totals


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--scenario", action="append", choices=SCENARIOS)
    parser.add_argument(
        "--tree",
        type=Path,
        action="append",
        help="code to measure (repeatable; default: this checkout)",
    )
    parser.add_argument(
        "--limits-on",
        action="store_true",
        help="rate limits on, counted in Redis (BENCH_REDIS_URL), none ever reached",
    )
    parser.add_argument("--drive", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--offset", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.drive:
        drive(args.drive, args.scenario, args.requests, args.offset, args.limits_on)
        return 0
    trees = args.tree or [ROOT]
    with tempfile.TemporaryDirectory(prefix="plugin-ir-") as tmp:
        folder = Path(tmp)
        facts = prepare(folder, pool=len(trees) * (args.requests + 20))
        scenarios = args.scenario or list(SCENARIOS)
        used = args.requests + 20
        columns = [
            instructions(tree, facts, scenarios, args.requests, folder, i * used, args.limits_on)
            for i, tree in enumerate(trees)
        ]
        print("| scenario | " + " | ".join(str(t) for t in trees) + " |")
        print("|---|" + "---|" * len(trees))
        for i, scenario in enumerate(scenarios):
            cells = [f"{column[i] / args.requests / 1e6:.2f} M" for column in columns]
            print(f"| {scenario} | " + " | ".join(cells) + " |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
