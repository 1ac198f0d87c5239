"""Measure the OCPI side as an eMSP sees it: Locations pull throughput, and START_SESSION latencies.

    .venv/bin/python bench/ocpi.py --preset load-test-500 --pulls 4 --sessions 20

Starts ``ocpi-sandbox serve --preset load-test-500`` in a subprocess on a fresh SQLite file (500 locations, one
live simulated charger each) and waits until the bundle is READY. A minimal eMSP served by this script over
loopback registers with the bundle's token A (OCPI 2.2.1), then:

1. pulls every Location in pages of 50 following ``Link`` headers, ``--pulls`` times, one request at a time as an
   eMSP does: requests per second and per-page latency p50/p99;
2. sends START_SESSION to ``--sessions`` different EVSEs, one after the other, and times, from the moment the
   command is sent, the CommandResult POSTed to its response_url and the first Session PUT (matched on its
   ``authorization_reference``): p50/p99 of each.

Also prints the sandbox's CPU share and RSS during the pulls. Loopback only; bounded by ``--timeout``.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import os
import secrets
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import msgspec
import uvicorn
from litestar import Litestar, Request, Response, get, patch, post, put, route
from process_stats import cpu_seconds, free_port, rss_mib

ROOT = Path(__file__).resolve().parent.parent
ADMIN = "sbx-admin-bench-" + secrets.token_hex(16)


def envelope(data: object = None) -> Response:
    body = {"status_code": 1000, "timestamp": "2026-01-01T00:00:00Z"}
    if data is not None:
        body["data"] = data
    return Response(body)


class Emsp:
    """Just enough of an eMSP: versions, credentials (calling the sandbox back), and the Receiver endpoints."""

    def __init__(self, port: int) -> None:
        self.base = f"http://127.0.0.1:{port}"
        self.token_b = "bench-b-" + secrets.token_hex(8)
        self.results: dict[str, float] = {}       # response_url ref -> arrival (perf_counter)
        self.session_puts: dict[str, float] = {}  # authorization_reference -> first Session PUT arrival

    def credentials(self, token: str) -> dict:
        return {"token": token, "url": f"{self.base}/emsp/versions",
                "roles": [{"role": "EMSP", "party_id": "BEN", "country_code": "DE",
                           "business_details": {"name": "Bench eMSP"}}]}

    def app(self) -> Litestar:
        emsp = self

        @get("/emsp/versions")
        async def versions() -> Response:
            return envelope([{"version": "2.2.1", "url": f"{emsp.base}/emsp/2.2.1"}])

        @get("/emsp/2.2.1")
        async def details() -> Response:
            base = f"{emsp.base}/emsp/2.2.1"
            return envelope({"version": "2.2.1", "endpoints": [
                {"identifier": m, "role": "SENDER" if m in ("credentials", "tokens") else "RECEIVER",
                 "url": f"{base}/{m}"} for m in ("credentials", "locations", "tokens", "sessions", "cdrs")]})

        @post("/emsp/2.2.1/credentials")
        async def register(request: Request) -> Response:
            body = msgspec.json.decode(await request.body())
            async with httpx.AsyncClient() as client:
                await client.get(body["url"], headers={
                    "Authorization": "Token " + base64.b64encode(body["token"].encode()).decode()})
            return envelope(emsp.credentials("bench-c-" + secrets.token_hex(8)))

        @post("/emsp/results/{ref:str}")
        async def result(ref: str) -> Response:
            emsp.results.setdefault(ref, time.perf_counter())
            return envelope()

        @put("/emsp/2.2.1/sessions/{path:path}")
        async def session_put(request: Request, path: str) -> Response:
            body = msgspec.json.decode(await request.body())
            if body.get("authorization_reference"):
                emsp.session_puts.setdefault(body["authorization_reference"], time.perf_counter())
            return envelope()

        @patch("/emsp/2.2.1/sessions/{path:path}")
        async def session_patch(path: str) -> Response:
            return envelope()

        @route("/emsp/2.2.1/locations/{path:path}", http_method=["PUT", "PATCH"])
        async def location_push(path: str) -> Response:
            return envelope()

        @post("/emsp/2.2.1/cdrs")
        async def cdr() -> Response:
            return Response({"status_code": 1000, "timestamp": "2026-01-01T00:00:00Z"},
                            headers={"Location": f"{emsp.base}/emsp/2.2.1/cdrs/x"})

        return Litestar([versions, details, register, result, session_put, session_patch, location_push, cdr])


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


async def wait_ready(api: httpx.AsyncClient, server: subprocess.Popen, timeout: float) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            sys.exit("the sandbox exited; see its log")
        try:
            bundles = (await api.get("/api/bundles")).json()
            if bundles and bundles[0]["status"] == "READY":
                return (await api.get(f"/api/bundles/{bundles[0]['id']}")).json()
            if bundles and bundles[0]["status"] == "FAILED":
                sys.exit(f"bundle FAILED: {bundles[0].get('error')}")
        except httpx.HTTPError:
            pass
        await asyncio.sleep(0.5)
    sys.exit(f"the bundle was not READY within {timeout:.0f} s")


async def main(args: argparse.Namespace) -> None:
    port, emsp_port = free_port(), free_port()
    workdir = tempfile.mkdtemp(prefix="ocpi-bench-")
    env = {**os.environ, "OCPI_SANDBOX_DATABASE_URL": f"sqlite+aiosqlite:///{workdir}/bench.db",
           "OCPI_SANDBOX_ADMIN_TOKEN": ADMIN}
    log = open(Path(workdir) / "sandbox.log", "w")  # noqa: SIM115 - closed at the end
    started = time.monotonic()
    server = subprocess.Popen([sys.executable, "-m", "ocpi_sandbox", "serve", "--port", str(port), "--preset",
                               args.preset, "--log-level", "warning"], env=env, cwd=workdir, stdout=log,
                              stderr=subprocess.STDOUT)
    emsp = Emsp(emsp_port)
    config = uvicorn.Config(emsp.app(), host="127.0.0.1", port=emsp_port, log_level="warning", access_log=False)
    emsp_server = uvicorn.Server(config)
    emsp_task = asyncio.create_task(emsp_server.serve())
    base = f"http://127.0.0.1:{port}"
    api = httpx.AsyncClient(base_url=base, headers={"Authorization": f"Bearer {ADMIN}"}, timeout=60)
    try:
        bundle = await wait_ready(api, server, args.timeout)
        chargers = [c for loc in bundle["locations"] for c in loc["chargers"]]
        print(f"bundle {args.preset}: {len(bundle['locations'])} locations, {len(chargers)} chargers READY after "
              f"{time.monotonic() - started:.1f} s (including start-up)")
        header = {"Authorization": "Token " + base64.b64encode(bundle["token_a"].encode()).decode()}
        reply = await api.post(f"{base}/ocpi/2.2.1/credentials", json=emsp.credentials(emsp.token_b), headers=header)
        token_c = reply.json()["data"]["token"]
        ocpi = httpx.AsyncClient(base_url=base, timeout=60, headers={
            "Authorization": "Token " + base64.b64encode(token_c.encode()).decode(),
            "X-Request-ID": "bench", "X-Correlation-ID": "bench"})

        # Let the start settle: the chargers' boot traffic and the pushes the new partner is owed drain first.
        partner = bundle["registration_partner_id"]
        settle = time.monotonic() + 120
        while time.monotonic() < settle:
            pending = (await api.get(f"/api/partners/{partner}/pushes", params={"state": "pending"})).json()
            if not pending:
                break
            await asyncio.sleep(1)
        await asyncio.sleep(2)
        print(f"load average before measuring: {' '.join(f'{x:.2f}' for x in os.getloadavg())} "
              f"({os.cpu_count()} cores)")

        # 1. Locations pull, pages of 50, following Link.
        latencies, pages, objects = [], 0, 0
        cpu0, t0 = cpu_seconds(server.pid), time.perf_counter()
        for _ in range(args.pulls):
            url = f"{base}/ocpi/2.2.1/locations?limit=50"
            while url:
                began = time.perf_counter()
                page = await ocpi.get(url)
                latencies.append((time.perf_counter() - began) * 1000)
                assert page.status_code == 200, page.text
                pages += 1
                objects += len(page.json()["data"])
                link = page.headers.get("Link")
                url = link.split(";")[0].strip("<>") if link else None
        window = time.perf_counter() - t0
        cpu = (cpu_seconds(server.pid) - cpu0) / window
        print(f"Locations pull: {pages} pages of 50 ({objects} locations) in {window:.1f} s = "
              f"{pages / window:.1f} req/s; page p50 {pct(latencies, 0.5):.0f} ms, p99 {pct(latencies, 0.99):.0f} ms; "
              f"sandbox CPU {cpu:.2f} cores, RSS {rss_mib(server.pid):.0f} MiB")

        # 2. START_SESSION -> CommandResult, -> first Session PUT.
        token = {"country_code": "DE", "party_id": "BEN", "type": "APP_USER", "contract_id": "DE-BEN-1",
                 "issuer": "Bench", "valid": True, "whitelist": "NEVER", "last_updated": "2026-11-01T00:00:00Z"}
        to_result, to_put = [], []
        by_location = {loc["ocpi_id"]: loc for loc in bundle["locations"]}
        targets = [(loc_id, c) for loc_id, loc in by_location.items() for c in loc["chargers"]][:args.sessions]
        for n, (location_id, charger) in enumerate(targets):
            ref = f"S{n:04d}"
            sent = time.perf_counter()
            answer = await ocpi.post(f"{base}/ocpi/2.2.1/commands/START_SESSION", json={
                "response_url": f"{emsp.base}/emsp/results/{ref}", "token": {**token, "uid": f"BENCH-{n:04d}"},
                "location_id": location_id, "evse_uid": charger["evse_uids"][0], "authorization_reference": ref})
            assert answer.json()["data"]["result"] == "ACCEPTED", answer.text
            deadline = time.monotonic() + 20
            while (ref not in emsp.results or ref not in emsp.session_puts) and time.monotonic() < deadline:
                await asyncio.sleep(0.002)
            if ref in emsp.results:
                to_result.append((emsp.results[ref] - sent) * 1000)
            if ref in emsp.session_puts:
                to_put.append((emsp.session_puts[ref] - sent) * 1000)
        if len(to_put) < len(targets):  # say why, from the sandbox's own records
            pushes = (await api.get(f"/api/partners/{partner}/pushes", params={"limit": 20})).json()
            sessions = (await ocpi.get(f"{base}/ocpi/2.2.1/sessions?date_from=2020-01-01T00:00:00Z")).json()
            print(f"missing Session PUTs; sessions: {len(sessions.get('data') or [])}, last pushes: "
                  f"{[(p['kind'], p['state'], p['last_status'], p['last_error']) for p in pushes]}")
        print(f"START_SESSION -> CommandResult: n={len(to_result)}, p50 {pct(to_result, 0.5):.0f} ms, "
              f"p99 {pct(to_result, 0.99):.0f} ms (mean {statistics.mean(to_result):.0f} ms)")
        print(f"START_SESSION -> first Session PUT: n={len(to_put)}, p50 {pct(to_put, 0.5):.0f} ms, "
              f"p99 {pct(to_put, 0.99):.0f} ms (mean {statistics.mean(to_put):.0f} ms)")
        await ocpi.aclose()
    finally:
        await api.aclose()
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=60)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()
        emsp_server.should_exit = True
        await emsp_task


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--preset", default="load-test-500")
    parser.add_argument("--pulls", type=int, default=4, help="full Locations pulls (default 4)")
    parser.add_argument("--sessions", type=int, default=20, help="START_SESSIONs, one at a time (default 20)")
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds to wait for the bundle (default 300)")
    asyncio.run(main(parser.parse_args()))
