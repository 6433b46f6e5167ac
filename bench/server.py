"""Start gunicorn with the production settings (gunicorn.conf.py) on a free loopback port."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# The benchmark measures this checkout's app unless PYTHONPATH names another one.
if not os.environ.get("PYTHONPATH") and str(ROOT) not in sys.path:
    sys.path.insert(1, str(ROOT))


# The origin in-process harnesses give the app as PLUGIN_BASE_URL: the test client's own.
BASE_URL = "http://localhost"


@dataclass
class Server:
    url: str
    process: subprocess.Popen

    def worker_pids(self) -> list[int]:
        pids = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            fields = _stat_fields(int(entry.name))
            if fields and int(fields[1]) == self.process.pid:
                pids.append(int(entry.name))
        return pids

    def cpu_seconds(self) -> float:
        """CPU time of the master and its workers so far, including workers already recycled.

        gunicorn reaps the workers it replaces, so their time lands in the master's
        cutime/cstime; a difference of two readings is the CPU a run cost the server.
        """
        ticks = 0
        master = _stat_fields(self.process.pid)
        if master:
            ticks += sum(int(v) for v in master[11:15])  # utime, stime, cutime, cstime
        for pid in self.worker_pids():
            fields = _stat_fields(pid)
            if fields:
                ticks += int(fields[11]) + int(fields[12])
        return ticks / os.sysconf("SC_CLK_TCK")

    def peak_rss_mb(self) -> float:
        """The largest VmHWM (peak resident memory) among the live workers, in MiB."""
        peaks = []
        for pid in self.worker_pids():
            try:
                status = Path(f"/proc/{pid}/status").read_text()
            except OSError:
                continue
            for line in status.splitlines():
                if line.startswith("VmHWM:"):
                    peaks.append(int(line.split()[1]) / 1024)
        return max(peaks, default=float("nan"))


def _stat_fields(pid: int) -> list[str] | None:
    """/proc/<pid>/stat after the command name: fields 3 onwards (state, ppid, …)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rsplit(")", 1)[1].split()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def gunicorn(app: str, env: dict[str, str], log_path: Path) -> Iterator[Server]:
    """Serve ``app`` ("module:variable") as production does and stop it afterwards."""
    port = free_port()
    # Production sets PLUGIN_BASE_URL (docs/deploy.md); so does the benchmark, to this
    # server's own origin, rather than have every link derived from the request.
    env = {
        **env,
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        "PLUGIN_BASE_URL": f"http://127.0.0.1:{port}",
    }
    with open(log_path, "ab") as log:
        process = subprocess.Popen(  # noqa: S603
            [sys.executable, "-m", "gunicorn", app, "-c", str(ROOT / "gunicorn.conf.py")],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=log,
        )
    server = Server(f"http://127.0.0.1:{port}", process)
    try:
        _wait_healthy(server, log_path)
        yield server
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=40)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_healthy(server: Server, log_path: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"gunicorn exited; see {log_path}")
        try:
            with urllib.request.urlopen(server.url + "/healthz", timeout=2) as response:  # noqa: S310
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"gunicorn did not answer /healthz within {timeout:.0f}s; see {log_path}")


def server_env(
    database_url: str,
    instance: Path,
    *,
    workers: int,
    worker_class: str,
    threads: int,
    log_level: str,
) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": database_url,
        "SECRET_KEY": "bench-secret-key-" + "x" * 32,
        "PLUGIN_INSTANCE_PATH": str(instance),
        # The per-minute limits would turn most of a load test into 429s.
        "RATELIMIT_ENABLED": "false",
        "LOG_LEVEL": log_level,
        "WEB_CONCURRENCY": str(workers),
        "GUNICORN_WORKER_CLASS": worker_class,
        "GUNICORN_THREADS": str(threads),
    }
