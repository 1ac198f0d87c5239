"""A sandbox in its own process, as a user runs it (``ocpi-sandbox serve``), for tests that kill it with SIGKILL
and start it again on the same database."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx

from tests.conftest import ADMIN_TOKEN, free_socket

__all__ = ["SandboxProcess", "sandbox_process", "free_port"]


def free_port() -> int:
    sock = free_socket()
    port = sock.getsockname()[1]
    sock.close()  # the child binds it; loopback ports are not reused this fast
    return port


class SandboxProcess:
    def __init__(self, process: subprocess.Popen, base_url: str) -> None:
        self.process = process
        self.base_url = base_url
        self.api = httpx.AsyncClient(base_url=base_url, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
                                     timeout=30)

    def kill(self) -> None:
        """SIGKILL: no shutdown hook runs, nothing is flushed, as in a crash or a power cut."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=30)


@asynccontextmanager
async def sandbox_process(database_url: str, workdir: Path, *, args: tuple[str, ...] = (), port: int | None = None,
                          **env: str) -> AsyncIterator[SandboxProcess]:
    """Start ``ocpi-sandbox serve [args]`` on ``database_url`` and wait until it answers; stop it (if alive) on exit.

    ``port``: serve there (a restart on the same port keeps the URLs an eMSP registered); default, a free one.
    """
    if port is None:
        port = free_port()
    log = (workdir / f"sandbox-{port}.log").open("ab")
    process = subprocess.Popen(
        [sys.executable, "-m", "ocpi_sandbox", "serve", "--port", str(port), "--log-level", "warning", *args],
        env={**os.environ, "OCPI_SANDBOX_DATABASE_URL": database_url, "OCPI_SANDBOX_ADMIN_TOKEN": ADMIN_TOKEN, **env},
        cwd=workdir, stdout=log, stderr=subprocess.STDOUT)
    running = SandboxProcess(process, f"http://127.0.0.1:{port}")
    try:
        deadline = asyncio.get_running_loop().time() + 60
        while True:
            assert process.poll() is None, f"the sandbox exited: {Path(log.name).read_text()[-2000:]}"
            try:
                if (await running.api.get("/api/health")).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert asyncio.get_running_loop().time() < deadline, "the sandbox did not answer within 60 s"
            await asyncio.sleep(0.1)
        yield running
    finally:
        await running.api.aclose()
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
        log.close()
