"""Time a bulk-create job of N chargers until it is READY with every charger booted on the embedded CSMS.

    .venv/bin/python bench/bulk_create.py --chargers 1000

Starts a sandbox in a subprocess on a fresh SQLite file, creates one location, submits one job
(``POST /api/locations/{id}/chargers``, two groups: half OCPP 1.6, half 2.0.1) and polls ``GET /api/jobs/{id}``.
Reports: time to the 202, time until every charger row was stored (read from the database file), time until
the job was READY (which the job reaches only once each simulated charger is connected and its boot accepted),
a check of that from the CSMS's own records, and the sandbox's CPU time and RSS over the job (from /proc).
The issue's target is READY in under 10 s for 1,000 chargers. ``--no-simulate`` creates chargers that are not
simulated, which times the job machinery alone (planning, batched inserts, step records). Loopback only; bounded.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from process_stats import cpu_seconds, free_port, rss_mib

ADMIN = "bench-admin-token-0123456789-abcdefghij"


def count(db: Path, sql: str) -> int:
    con = sqlite3.connect(db, timeout=30)
    try:
        return con.execute(sql).fetchone()[0]
    finally:
        con.close()


def main(args: argparse.Namespace) -> None:
    port = free_port()
    workdir = Path(tempfile.mkdtemp(prefix="ocpi-sandbox-bulk-"))
    db = workdir / "bench.db"
    env = {**os.environ, "OCPI_SANDBOX_DATABASE_URL": f"sqlite+aiosqlite:///{db}", "OCPI_SANDBOX_ADMIN_TOKEN": ADMIN}
    server = subprocess.Popen([sys.executable, "-m", "ocpi_sandbox", "serve", "--port", str(port), "--log-level",
                               "warning"], env=env, cwd=workdir, stdout=subprocess.DEVNULL)
    api = httpx.Client(base_url=f"http://127.0.0.1:{port}", headers={"Authorization": f"Bearer {ADMIN}"},
                       timeout=60)
    try:
        for _ in range(300):
            try:
                if api.get("/api/health").status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        site = api.post("/api/locations", json={
            "name": "Bench", "address": "Benchweg 1", "city": "Delft", "country": "NLD", "latitude": "52.01160",
            "longitude": "4.35710", "time_zone": "Europe/Amsterdam"}).json()
        half = args.chargers // 2
        model = {"brand_slug": "voltstream", "model_slug": "homebox-7c", "simulate": args.simulate}
        groups = [{"template": {**model, "ocpp_version": "1.6", "identity_prefix": "BULK16-"},
                   "chargers_number": args.chargers - half},
                  {"template": {**model, "ocpp_version": "2.0.1", "identity_prefix": "BULK201-"},
                   "chargers_number": half}]
        cpu0, t0 = cpu_seconds(server.pid), time.monotonic()
        reply = api.post(f"/api/locations/{site['id']}/chargers", json=[g for g in groups if g["chargers_number"]])
        reply.raise_for_status()
        accepted = time.monotonic() - t0
        status_url, stored_at, job = reply.json()["status_url"], None, {}
        while True:
            job = api.get(status_url, params={"results": "false"}).json()  # polling: status and progress only
            now = time.monotonic() - t0
            if stored_at is None and count(db, "select count(*) from chargers") >= args.chargers:
                stored_at = now
            print(f"\r{now:5.1f} s {job['status']} {job['progress']}", end="", file=sys.stderr)
            if job["status"] in ("READY", "FAILED"):
                break
            if now > 600:
                raise SystemExit(f"job not finished in 600 s: {job['progress']}")
            time.sleep(0.1)
        ready = time.monotonic() - t0
        cpu = cpu_seconds(server.pid) - cpu0
        print(file=sys.stderr)
        created = len(api.get(status_url).json()["results"].get("created", []))
        booted = count(db, "select count(*) from csms_stations where connected and registration_status='Accepted'")
        print(json.dumps({
            "chargers": args.chargers, "simulated": args.simulate, "job_status": job["status"],
            "progress": job["progress"], "results_created": created, "accepted_202_s": round(accepted, 2),
            "all_stored_s": round(stored_at or ready, 2),
            "ready_s": round(ready, 2), "chargers_per_s": round(args.chargers / ready, 1),
            "booted_per_csms_records": booted, "sandbox_cpu_s_during_job": round(cpu, 1),
            "sandbox_rss_mib": round(rss_mib(server.pid), 1), "load_avg_1min_at_end": os.getloadavg()[0],
        }, indent=2))
    finally:
        api.close()
        server.send_signal(signal.SIGINT)
        try:
            server.wait(timeout=60)
        except subprocess.TimeoutExpired:
            server.kill()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chargers", type=int, default=1000)
    parser.add_argument("--simulate", action=argparse.BooleanOptionalAction, default=True,
                        help="simulate the chargers (default); --no-simulate times the job alone")
    main(parser.parse_args())
