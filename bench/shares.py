"""Where one in-process call's time goes, by part, from cProfile's inclusive times.

    python bench/shares.py [SCENARIO] [--requests 1000]

SCENARIO is one of cpu_per_request.py's (default listTodos). The parts are disjoint pieces of
the app's own work; what they leave is Flask's, Werkzeug's, Authlib's and Flask-Limiter's
machinery. Shares hold up on a busy machine where times do not (docs/benchmarks.md).
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import os
import pstats
import sys
import tempfile
from pathlib import Path

import cpu_per_request
from run import fresh_database

WHOLE = "flask/app.py:1529(__call__)"
PARTS = {
    "token lookup (one statement)": "plugin/oauth/tokens/lookup.py:155(find_access_token)",
    "page query (one statement)": "plugin/todos/services.py:47(list_todos)",
    "profile query (one statement)": "plugin/todos/services.py:131(profile)",
    "page dump (plain dicts)": "plugin/todos/schemas.py:109(plain_dump)",
    "JSON response (jsonify)": "flask/json/__init__.py:138(jsonify)",
    "request log line": "plugin/logs.py:154(_log_request)",
    "input checks": "plugin/inputs.py:83(check_request)",
    "security headers": "plugin/web.py:55(_security_headers)",
    "CORS": "plugin/chatgpt/cors.py:43(_add_cors_headers)",
    "ChatGPT context": "plugin/chatgpt/context.py:40(_read_context)",
    "CSRF check": "flask_wtf/csrf.py:231(csrf_protect)",
    "query inputs (marshmallow)": "plugin/api/running.py:65(load_inputs)",
    "session close (teardown)": "plugin/database.py:178(discard_work)",
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("scenario", nargs="?", default="listTodos")
    parser.add_argument("--requests", type=int, default=1_000)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="plugin-shares-") as tmp:
        folder = Path(tmp)
        os.environ["PLUGIN_INSTANCE_PATH"] = str(folder / "instance")
        with fresh_database("sqlite", folder) as url:
            built = cpu_per_request.build("sqlite", url, folder, 1_000, args.requests + 100)
            call = cpu_per_request.scenarios(*built[:7])[args.scenario]
            with open(folder / "app.log", "w") as log, contextlib.redirect_stderr(log):
                for _ in range(50):  # warm up: statement caches, imports
                    call()
                profile = cProfile.Profile()
                profile.enable()
                for _ in range(args.requests):
                    call()
                profile.disable()
    stats = pstats.Stats(profile).stats  # type: ignore[attr-defined]

    def inclusive(key: str) -> float:
        return sum(v[3] for k, v in stats.items() if key in f"{k[0]}:{k[1]}({k[2]})")

    whole = inclusive(WHOLE)
    print(f"{args.scenario}: shares of the app's time in {args.requests:,} calls")
    print("| part | share |\n|---|---|")
    listed = 0.0
    for part, key in PARTS.items():
        if spent := inclusive(key):
            listed += spent
            print(f"| {part} | {100 * spent / whole:.0f} % |")
    rest = 100 * (whole - listed) / whole
    print(f"| the rest (Flask, Werkzeug, Authlib, Flask-Limiter) | {rest:.0f} % |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
