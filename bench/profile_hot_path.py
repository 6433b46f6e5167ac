"""Profile the hot path, listTodos with a bearer token, in-process with pyinstrument.

    python bench/profile_hot_path.py [--db sqlite|postgresql] [--requests N]
                                     [--stored-tokens N] [--html FILE]

Builds the app on a fresh, seeded database (as bench/run.py does), times GET /api/todos
through the test client in a loop (wall and CPU time per request, one request at a time, so
no queueing), then profiles the same loop with pyinstrument and prints the call tree.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import seed
from pyinstrument import Profiler
from run import fresh_database, migrate
from server import server_env


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--requests", type=int, default=2_000)
    parser.add_argument("--path", default="/api/todos")
    parser.add_argument("--log-level", default="INFO")
    parser.add_argument(
        "--stored-tokens", type=int, default=1_000, help="rows in the token table while measuring"
    )
    parser.add_argument("--html", type=Path, help="also write pyinstrument's HTML report here")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="plugin-profile-") as tmp:
        folder = Path(tmp)
        os.environ["PLUGIN_INSTANCE_PATH"] = str(folder / "instance")
        with fresh_database(args.db, folder) as url:
            env = server_env(
                url,
                folder / "instance",
                workers=1,
                worker_class="sync",
                threads=1,
                log_level=args.log_level,
            )
            migrate(env)
            os.environ.update({k: env[k] for k in ("RATELIMIT_ENABLED", "LOG_LEVEL")})
            from plugin import create_app
            from plugin.extensions import db

            app = create_app({"DATABASE_URL": url, "SECRET_KEY": env["SECRET_KEY"]})
            seeded = seed.seed_base(app, users=10, todos_per_user=50)
            seed.fill_tokens(app, seeded, args.stored_tokens)
            client = app.test_client()
            headers = {"Authorization": f"Bearer {seeded.access_tokens[0]}"}
            for _ in range(50):  # warm caches (SQLAlchemy statement cache, imports)
                assert client.get(args.path, headers=headers).status_code == 200
            wall, cpu = time.perf_counter(), time.process_time()
            for _ in range(args.requests):
                client.get(args.path, headers=headers)
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            print(
                f"{args.requests} x GET {args.path} on {args.db} with "
                f"{seed.token_count(app):,} stored tokens: {wall / args.requests * 1000:.2f} ms "
                f"wall, {cpu / args.requests * 1000:.2f} ms CPU per request (load "
                f"{os.getloadavg()[0]:.2f})"
            )
            profiler = Profiler(interval=0.0005)
            with profiler:
                for _ in range(args.requests):
                    client.get(args.path, headers=headers)
            print(profiler.output_text(unicode=True, color=False, show_all=False))
            if args.html:
                args.html.write_text(profiler.output_html())
            with app.app_context():
                db.session.remove()
                db.engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
