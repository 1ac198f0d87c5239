"""What the bench scripts share: a sandbox subprocess on a fresh SQLite file, and its CPU time and RSS from /proc."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx

__all__ = ["BenchSandbox", "cpu_seconds", "free_port", "rss_mib", "sandbox"]

ADMIN = "bench-admin-token-0123456789-abcdefghij"

_CLK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds the process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _CLK


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class BenchSandbox:
    server: subprocess.Popen[bytes]
    api: httpx.Client  # the management API, as the admin
    db: Path  # the sandbox's SQLite file, for counting from the outside
    base_url: str

    def create_location(self) -> dict:
        reply = self.api.post("/api/locations", json={
            "name": "Bench", "address": "Benchweg 1", "city": "Delft", "country": "NLD", "latitude": "52.01160",
            "longitude": "4.35710", "time_zone": "Europe/Amsterdam"})
        reply.raise_for_status()
        return reply.json()


@contextlib.contextmanager
def sandbox(prefix: str, *, profile: str | None = None, env: dict[str, str] | None = None) -> Iterator[BenchSandbox]:
    """Start ``ocpi-sandbox serve`` with no preset on a fresh SQLite file; stop it with SIGINT (as a user would).

    ``profile``: run it under cProfile and write the stats there (slower; for finding where the time goes, not for
    the figures).
    """
    # A bench stopped with SIGTERM (kill, timeout) must still stop its sandboxes: an orphaned sandbox with thousands
    # of chargers reconnecting for ever spoils every later measurement on the machine.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(f"{prefix}: stopped by SIGTERM"))
    port = free_port()
    workdir = Path(tempfile.mkdtemp(prefix=prefix))
    db = workdir / "bench.db"
    environment = {**os.environ, "OCPI_SANDBOX_DATABASE_URL": f"sqlite+aiosqlite:///{db}",
                   "OCPI_SANDBOX_ADMIN_TOKEN": ADMIN, **(env or {})}
    profiler = ["-m", "cProfile", "-o", str(Path(profile).resolve())] if profile else []
    server = subprocess.Popen([sys.executable, *profiler, "-m", "ocpi_sandbox", "serve", "--port", str(port),
                               "--preset", "none", "--log-level", "warning"], env=environment, cwd=workdir,
                              stdout=subprocess.DEVNULL)
    base_url = f"http://127.0.0.1:{port}"
    api = httpx.Client(base_url=base_url, headers={"Authorization": f"Bearer {ADMIN}"}, timeout=60)
    try:
        for _ in range(600):
            if server.poll() is not None:
                raise SystemExit(f"the sandbox exited with {server.returncode} before it answered")
            try:
                if api.get("/api/health").status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        else:
            raise SystemExit("the sandbox did not answer /api/health within a minute")
        yield BenchSandbox(server=server, api=api, db=db, base_url=base_url)
    finally:
        api.close()
        server.send_signal(signal.SIGINT)
        try:
            server.wait(timeout=60)
        except subprocess.TimeoutExpired:
            server.kill()
