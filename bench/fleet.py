"""Run N simulated chargers inside one sandbox on its embedded CSMS and print what it costs.

    .venv/bin/python bench/fleet.py --chargers 1000 --seconds 30

Starts a sandbox in a subprocess on a fresh SQLite file with MeterValueSampleInterval / TxUpdatedInterval set by
``--interval`` (default 10 s), creates one location and N chargers through the management API (1.6 and 2.0.1
models mixed), starts a transaction on each (plug-in + start-transaction), and reports: time until every charger
was booted and connects per second, the sandbox's steady CPU share and RSS over ``--seconds`` (read from /proc),
and the round trip of the chargers' CALLs (from the frame log: CALL sent to its CALLRESULT received) p50/p99.
Both the simulators and the CSMS run in that one process, as in a default sandbox. Loopback only; bounded.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from process_stats import cpu_seconds, rss_mib, sandbox
MODELS = [("voltstream", "homebox-7c", "1.6"), ("voltstream", "homebox-7c", "2.0.1")]


def round_trips(db: Path, since: str) -> list[float]:
    """CALL sent by a charger -> its CALLRESULT received, in ms, from the frame log."""
    con = sqlite3.connect(db)
    rows = con.execute("select identity, unique_id, message_type, at from charger_frames where side='simulator' "
                       "and at >= ? and message_type in (2, 3)", (since,)).fetchall()
    con.close()
    sent, rtts = {}, []
    for identity, uid, kind, at in rows:
        t = time.mktime(time.strptime(at[:19], "%Y-%m-%d %H:%M:%S")) + float("0" + at[19:26] if len(at) > 19 else 0)
        if kind == 2:
            sent[(identity, uid)] = t
        elif (identity, uid) in sent:
            rtts.append((t - sent.pop((identity, uid))) * 1000)
    return rtts


def main(args: argparse.Namespace) -> None:
    with sandbox("ocpi-sandbox-fleet-", profile=args.profile) as box:
        api, db, server = box.api, box.db, box.server
        site = box.create_location()
        t0 = time.monotonic()

        def create(n: int) -> str:
            brand, model, version = MODELS[n % len(MODELS)]
            interval = str(int(args.interval))
            configuration = ({"MeterValueSampleInterval": interval} if version == "1.6"
                             else {"SampledDataCtrlr.TxUpdatedInterval": interval})
            reply = api.post("/api/chargers", json={"location_id": site["id"], "brand_slug": brand,
                                                    "model_slug": model, "ocpp_version": version,
                                                    "identity": f"FLEET-{n:05d}", "configuration": configuration})
            reply.raise_for_status()
            return reply.json()["id"]

        with ThreadPoolExecutor(8) as pool:
            ids = list(pool.map(create, range(args.chargers)))
        created = time.monotonic() - t0
        booted_at = None
        while booted_at is None:
            con = sqlite3.connect(db)
            booted = con.execute("select count(*) from csms_stations where registration_status='Accepted'").fetchone()[0]
            con.close()
            print(f"\rcreated {len(ids)} in {created:.1f} s, booted {booted}", end="", file=sys.stderr)
            if booted >= args.chargers:
                booted_at = time.monotonic() - t0
            elif time.monotonic() - t0 > 600:
                raise SystemExit(f"only {booted} of {args.chargers} booted in 600 s")
            else:
                time.sleep(0.5)
        print(file=sys.stderr)

        def start(charger_id: str) -> None:
            api.post(f"/api/chargers/{charger_id}/commands/plug-in")
            api.post(f"/api/chargers/{charger_id}/commands/start-transaction", json={"id_token": "BENCH0001"})

        with ThreadPoolExecutor(8) as pool:
            list(pool.map(start, ids))
        time.sleep(args.interval)
        since = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime())
        cpu0, w0 = cpu_seconds(server.pid), time.monotonic()
        time.sleep(args.seconds)
        cpu = (cpu_seconds(server.pid) - cpu0) / (time.monotonic() - w0)
        rss = rss_mib(server.pid)
        rtts = round_trips(db, since)
        q = statistics.quantiles(rtts, n=100) if len(rtts) > 1 else [0.0] * 99
        print(json.dumps({
            "chargers": args.chargers, "all_created_s": round(created, 1), "all_booted_s": round(booted_at, 1),
            "connects_per_s": round(args.chargers / booted_at, 1), "steady_cpu_share_of_one_core": round(cpu, 3),
            "sandbox_rss_mib": round(rss, 1), "charger_calls_in_window": len(rtts),
            "call_rtt_ms_p50": round(q[49], 2), "call_rtt_ms_p99": round(q[98], 2),
        }, indent=2))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chargers", type=int, default=1000)
    parser.add_argument("--interval", type=float, default=10.0, help="meter value interval of every charger, s")
    parser.add_argument("--seconds", type=float, default=30.0, help="length of the steady-state window")
    parser.add_argument("--profile", metavar="FILE", help="run the sandbox under cProfile and write its stats here")
    main(parser.parse_args())
