"""Measure what serving /mcp costs: /api/me before and after, and a tools/call.

    python bench/mcp_serving.py [--duration 12] [--rounds 2]

Seeds a SQLite database, then in interleaved rounds serves (a) the app with MCP_ENABLED=false,
(b) the app as shipped (a Flask view drives the SDK), (c) one ASGI app (the SDK app plus Flask
through a2wsgi) under gunicorn's ASGI worker, and drives wrk at each. Prints req/s and the
server's CPU time per request (medians over the rounds). See docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
from pathlib import Path

import seed
from run import migrate
from server import gunicorn, server_env
from wrk import run_wrk

from plugin import create_app

VARIANTS = {
    "before (MCP off)": ("wsgi:app", "gthread", {"MCP_ENABLED": "false"}),
    "Flask view drives the SDK": ("wsgi:app", "gthread", {}),
    "one ASGI app (a2wsgi)": ("bench.asgi_combined:app", "asgi", {}),
}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--duration", type=int, default=12)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="bench-mcp-"))
    url = f"sqlite:///{folder / 'bench.db'}"
    env = server_env(
        url, folder, workers=args.workers, worker_class="gthread", threads=1, log_level="INFO"
    )
    migrate(env)
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": env["SECRET_KEY"]})
    seeded = seed.seed_base(app, users=10, todos_per_user=50)
    tokens = folder / "bearer.txt"
    tokens.write_text("\n".join(seeded.access_tokens) + "\n")
    wrk_env = {**os.environ, "BENCH_TOKENS": str(tokens), "BENCH_TOOL": "getMe"}
    results: dict[tuple[str, str], list[tuple[float, float]]] = {}
    for _ in range(args.rounds):
        for name, (target, worker_class, extra) in VARIANTS.items():
            variant_env = {**env, "GUNICORN_WORKER_CLASS": worker_class, **extra}
            with gunicorn(target, variant_env, folder / "gunicorn.log") as server:
                cases = [("/api/me", "/api/me", "bearer.lua")]
                if name == "Flask view drives the SDK":
                    cases.append(("tools/call getMe", "/mcp", "mcp_call.lua"))
                for label, path, script in cases:
                    run_wrk(server.url + path, script, duration=3, connections=4, env=wrk_env)
                    before = server.cpu_seconds()
                    result = run_wrk(
                        server.url + path,
                        script,
                        duration=args.duration,
                        connections=4,
                        env=wrk_env,
                    )
                    cpu_ms = (server.cpu_seconds() - before) * 1000 / max(result.requests, 1)
                    if result.non_2xx or result.socket_errors:
                        print(
                            f"  {name} {label}: {result.non_2xx} non-2xx, "
                            f"{result.socket_errors} socket errors",
                            file=sys.stderr,
                        )
                    results.setdefault((name, label), []).append(
                        (result.requests_per_second, cpu_ms)
                    )
                    print(
                        f"{name:28} {label:18} {result.requests_per_second:8.0f} req/s "
                        f"{cpu_ms:6.2f} ms CPU/req",
                        flush=True,
                    )
    print("\nmedians:")
    for (name, label), runs in results.items():
        rps = statistics.median(r for r, _ in runs)
        cpu = statistics.median(c for _, c in runs)
        print(f"| {name} | `{label}` | {rps:.0f} | {cpu:.2f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
