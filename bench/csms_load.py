"""Load the embedded CSMS with N minimal OCPP 1.6 charge points over loopback and print what it costs.

    .venv/bin/python bench/csms_load.py --chargers 2000 --interval 10 --seconds 30

Starts a sandbox in a subprocess on a fresh SQLite file, opens N WebSockets from this process (at most 100
handshakes at a time), each sending BootNotification, StatusNotification and StartTransaction, then MeterValues
every ``--interval`` seconds with a random phase. Prints: time until all were booted and connects per second, the
sandbox's CPU share and RSS over the steady window (read from /proc), and the MeterValues round trip p50/p99.
Bounded: it stops by itself after ``--seconds`` of steady state. Loopback only.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import websockets
from process_stats import cpu_seconds, free_port, rss_mib

ROOT = Path(__file__).resolve().parent.parent


async def charger(url: str, n: int, interval: float, booted: list, rtts: list, stop: asyncio.Event,
                  slots: asyncio.Semaphore) -> None:
    identity = f"LOAD-{n:05d}"
    async with slots:
        ws = await websockets.connect(f"{url}/{identity}", subprotocols=["ocpp1.6"], compression=None,
                                      open_timeout=60)
    async with ws:
        async def call(action: str, payload: dict) -> dict:
            uid = f"{identity}-{time.monotonic_ns()}"
            await ws.send(json.dumps([2, uid, action, payload]))
            while True:
                message = json.loads(await ws.recv())
                if message[1] == uid:
                    return message[2]
        await call("BootNotification", {"chargePointVendor": "Bench", "chargePointModel": "L1"})
        await call("StatusNotification", {"connectorId": 1, "errorCode": "NoError", "status": "Charging"})
        tx = await call("StartTransaction", {"connectorId": 1, "idTag": f"TAG{n}", "meterStart": 0,
                                             "timestamp": "2026-11-23T10:00:00Z"})
        booted.append(time.monotonic())
        register = 0
        await asyncio.sleep(random.uniform(0, interval))
        while not stop.is_set():
            register += 1000
            started = time.perf_counter()
            await call("MeterValues", {"connectorId": 1, "transactionId": tx["transactionId"], "meterValue": [
                {"timestamp": "2026-11-23T10:00:00Z", "sampledValue": [{"value": str(register)}]}]})
            rtts.append((time.perf_counter() - started) * 1000)
            try:
                await asyncio.wait_for(stop.wait(), interval)
            except TimeoutError:
                pass


async def main(args: argparse.Namespace) -> None:
    port = free_port()
    workdir = tempfile.mkdtemp(prefix="ocpi-sandbox-bench-")
    env = {**os.environ, "OCPI_SANDBOX_DATABASE_URL": f"sqlite+aiosqlite:///{workdir}/bench.db",
           "OCPI_SANDBOX_ADMIN_TOKEN": "bench-admin-token-0123456789-abcdefghij"}
    server = subprocess.Popen([sys.executable, "-m", "ocpi_sandbox", "serve", "--port", str(port),
                               "--log-level", "warning"], env=env, cwd=workdir, stdout=subprocess.DEVNULL)
    try:
        for _ in range(200):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/api/health", timeout=1)
                break
            except OSError:
                time.sleep(0.1)
        url = f"ws://127.0.0.1:{port}/csms"
        booted, rtts, stop = [], [], asyncio.Event()
        slots = asyncio.Semaphore(100)
        t0 = time.monotonic()
        tasks = [asyncio.create_task(charger(url, n, args.interval, booted, rtts, stop, slots))
                 for n in range(args.chargers)]
        while len(booted) < args.chargers:
            await asyncio.sleep(0.2)
            if time.monotonic() - t0 > 300:
                raise SystemExit(f"only {len(booted)} of {args.chargers} booted in 300 s")
            print(f"\rbooted {len(booted)}/{args.chargers}", end="", file=sys.stderr)
        boot_time = max(booted) - t0
        print(file=sys.stderr)
        await asyncio.sleep(args.interval)  # let every charger reach its steady rhythm
        rtts.clear()
        cpu0, w0 = cpu_seconds(server.pid), time.monotonic()
        await asyncio.sleep(args.seconds)
        cpu = (cpu_seconds(server.pid) - cpu0) / (time.monotonic() - w0)
        rss = rss_mib(server.pid)
        stop.set()
        await asyncio.gather(*tasks, return_exceptions=True)
        q = statistics.quantiles(rtts, n=100) if len(rtts) > 1 else [0.0] * 99
        print(json.dumps({
            "chargers": args.chargers, "meter_interval_s": args.interval,
            "all_booted_s": round(boot_time, 1), "connects_per_s": round(args.chargers / boot_time, 1),
            "steady_cpu_share_of_one_core": round(cpu, 3), "sandbox_rss_mib": round(rss, 1),
            "meter_values_per_s": round(len(rtts) / args.seconds, 1),
            "meter_values_rtt_ms_p50": round(q[49], 2), "meter_values_rtt_ms_p99": round(q[98], 2),
        }, indent=2))
    finally:
        server.send_signal(signal.SIGINT)
        server.wait(timeout=30)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chargers", type=int, default=1000)
    parser.add_argument("--interval", type=float, default=10.0, help="seconds between MeterValues per charger")
    parser.add_argument("--seconds", type=float, default=30.0, help="length of the steady-state window")
    asyncio.run(main(parser.parse_args()))
