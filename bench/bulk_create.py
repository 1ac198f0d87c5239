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
import sqlite3
import sys
import time
from pathlib import Path

from process_stats import cpu_seconds, rss_mib, sandbox


def count(db: Path, sql: str) -> int:
    con = sqlite3.connect(db, timeout=30)
    try:
        return con.execute(sql).fetchone()[0]
    finally:
        con.close()


def main(args: argparse.Namespace) -> None:
    with sandbox("ocpi-sandbox-bulk-", profile=args.profile) as box:
        api, db, server = box.api, box.db, box.server
        site = box.create_location()
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


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chargers", type=int, default=1000)
    parser.add_argument("--simulate", action=argparse.BooleanOptionalAction, default=True,
                        help="simulate the chargers (default); --no-simulate times the job alone")
    parser.add_argument("--profile", metavar="FILE", help="run the sandbox under cProfile and write its stats here")
    main(parser.parse_args())
