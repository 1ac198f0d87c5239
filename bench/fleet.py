"""Run N simulated chargers inside one sandbox on its embedded CSMS and print what it costs.

    .venv/bin/python bench/fleet.py --chargers 1000 --seconds 30
    .venv/bin/python bench/fleet.py --chargers 10000 --seconds 40 --csms-sandbox

Starts a sandbox in a subprocess on a fresh SQLite file with MeterValueSampleInterval / TxUpdatedInterval set by
``--interval`` (default 10 s), creates one location and N chargers in one bulk job (half 1.6, half 2.0.1), starts
a transaction on each (plug-in, then start-transaction, fanned out over the location), and reports: time until
the job was READY, which it is once every charger has booted, and connects per second; the time until every
transaction has started; the sandbox's steady CPU share and RSS over ``--seconds`` (read from /proc); and the round
trip of the chargers' CALLs (from the frame log: CALL sent to its CALLRESULT received) p50/p99.

By default the simulators and the CSMS run in that one process, as in a default sandbox: every connection holds
two sockets there, so one process holds at most about 9,900 chargers where the open-file limit is 20,000 (this
machine's hard limit). ``--csms-sandbox`` starts a second sandbox and points every charger at its embedded CSMS
(the way a CSMS team points the sandbox's chargers at their own CSMS), and reports both processes. Their sum is not
the single process's figure: the CSMS sandbox logs every frame again (each sandbox keeps its own log), and knows
the chargers only as stations that connected, not as chargers of a location. Loopback only; bounded.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sqlite3
import statistics
import sys
import time
from pathlib import Path

from process_stats import BenchSandbox, cpu_seconds, rss_mib, sandbox

MODELS = [("voltstream", "homebox-7c", "1.6"), ("voltstream", "homebox-7c", "2.0.1")]


def count(db: Path, query: str) -> int:
    con = sqlite3.connect(db, timeout=30)
    try:
        return con.execute(query).fetchone()[0]
    finally:
        con.close()


def count_booted(db: Path) -> int:
    return count(db, "select count(*) from csms_stations where connected and registration_status='Accepted'")


def count_charging(db: Path) -> int:
    """Transactions the CSMS holds with their token: a 2.0.1 one starts at the plug, and is the driver's once its
    token has come (the start-up work measured apart from the steady state)."""
    return count(db, "select count(*) from csms_transactions where active and id_token is not null")


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
    with contextlib.ExitStack() as stack:
        box = stack.enter_context(sandbox("ocpi-sandbox-fleet-", profile=args.profile))
        # With --csms-sandbox the chargers simulated in ``box`` connect to a second sandbox's embedded CSMS:
        # each process then holds one end of every connection (the open-file limit caps one process's sockets).
        csms_box = stack.enter_context(sandbox("ocpi-sandbox-fleet-csms-")) if args.csms_sandbox else box
        run(args, box, csms_box)


def run(args: argparse.Namespace, box: BenchSandbox, csms_box: BenchSandbox) -> None:
    api, db, server = box.api, csms_box.db, box.server
    site = box.create_location()
    t0 = time.monotonic()
    # One bulk job, as a user makes a big fleet: half 1.6, half 2.0.1, READY once every charger has booted.
    interval = str(int(args.interval))
    ws_url = csms_box.base_url.replace("http://", "ws://") + "/csms" if csms_box is not box else None
    groups = [{"template": {"brand_slug": brand, "model_slug": model, "ocpp_version": version,
                            "identity_prefix": f"FLEET{version.replace('.', '')}-", "ws_url": ws_url,
                            "configuration":
                                {"MeterValueSampleInterval": interval} if version == "1.6"
                                else {"SampledDataCtrlr.TxUpdatedInterval": interval}},
               "chargers_number": n}
              for (brand, model, version), n in zip(MODELS, (args.chargers - args.chargers // 2,
                                                              args.chargers // 2)) if n]
    reply = api.post(f"/api/locations/{site['id']}/chargers", json=groups)
    reply.raise_for_status()
    while (job := api.get(reply.json()["status_url"], params={"results": "false"}).json())["status"] not in (
            "READY", "FAILED"):
        print(f"\r{time.monotonic() - t0:5.1f} s {job['status']} {job['progress']}", end="", file=sys.stderr)
        if time.monotonic() - t0 > 900:
            raise SystemExit(f"the job did not finish in 900 s: {job['progress']}")
        time.sleep(0.5)
    booted_at = time.monotonic() - t0
    print(f"\r{booted_at:5.1f} s {job['status']} {job['progress']}", file=sys.stderr)
    if job["status"] != "READY":
        raise SystemExit(f"the job failed: {job}")
    booted, t_count = count_booted(db), time.monotonic()
    while booted < args.chargers and time.monotonic() - t_count < 30:  # another process's CSMS may lag behind
        time.sleep(1)
        booted = count_booted(db)
    # Every charger charges: plug in, then start with a local token, fanned out over the location.
    t1 = time.monotonic()
    for command, body in (("plug-in", {}), ("start-transaction", {"id_token": "BENCH0001"})):
        api.post(f"/api/locations/{site['id']}/chargers/commands/{command}", json=body, timeout=600
                 ).raise_for_status()
    while (charging := count_charging(db)) < booted and time.monotonic() - t1 < 600:
        print(f"\r{time.monotonic() - t1:5.1f} s transactions started {charging}/{booted}", end="", file=sys.stderr)
        time.sleep(1)
    started_at = time.monotonic() - t1  # from the first command on: a storm of plug-ins, then of starts
    charging = count_charging(db)
    print(f"\r{started_at:5.1f} s transactions started {charging}/{booted}", file=sys.stderr)
    # Settle: every charger's first meter values (its transaction loaded into the CSMS's memory, its state
    # saved once) are start-up work, not the steady state measured below.
    time.sleep(args.settle if args.settle is not None else max(2 * args.interval, 20))
    since = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime())
    cpu0, csms_cpu0, w0 = cpu_seconds(server.pid), cpu_seconds(csms_box.server.pid), time.monotonic()
    time.sleep(args.seconds)
    window = time.monotonic() - w0
    cpu = (cpu_seconds(server.pid) - cpu0) / window
    csms_cpu = (cpu_seconds(csms_box.server.pid) - csms_cpu0) / window
    rss = rss_mib(server.pid)
    rtts = round_trips(box.db, since)
    q = statistics.quantiles(rtts, n=100) if len(rtts) > 1 else [0.0] * 99
    print(json.dumps({
        "chargers": args.chargers, "all_booted_s": round(booted_at, 1), "booted_per_csms_records": booted,
        "connects_per_s": round(args.chargers / booted_at, 1),
        "transactions_started": f"{charging}/{booted}", "all_transactions_started_s": round(started_at, 1),
        "steady_cpu_share_of_one_core": round(cpu, 3),
        "sandbox_rss_mib": round(rss, 1),
        **({"csms_sandbox_steady_cpu_share_of_one_core": round(csms_cpu, 3),
            "csms_sandbox_rss_mib": round(rss_mib(csms_box.server.pid), 1),
            "both_sandboxes_cpu": round(cpu + csms_cpu, 3)} if csms_box is not box else {}),
        "charger_calls_in_window": len(rtts),
        "call_rtt_ms_p50": round(q[49], 2), "call_rtt_ms_p99": round(q[98], 2),
    }, indent=2))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chargers", type=int, default=1000)
    parser.add_argument("--interval", type=float, default=10.0, help="meter value interval of every charger, s")
    parser.add_argument("--seconds", type=float, default=30.0, help="length of the steady-state window")
    parser.add_argument("--settle", type=float, help="seconds between the last transaction started and the window "
                                                     "(default: 2 x interval, at least 20)")
    parser.add_argument("--csms-sandbox", action="store_true",
                        help="connect the chargers to the embedded CSMS of a second sandbox process (10,000 chargers "
                             "need more sockets than one process may open where the open-file limit is 20,000)")
    parser.add_argument("--profile", metavar="FILE", help="run the sandbox under cProfile and write its stats here")
    main(parser.parse_args())
