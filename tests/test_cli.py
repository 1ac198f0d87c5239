"""The ``ocpi-sandbox`` client commands against a real sandbox, run as the user runs them (a subprocess with
--url and the token in OCPI_SANDBOX_TOKEN): create a location, bulk-create chargers while the job's progress is
drawn, run a command on one charger and on a location, tail a charger's log following its live stream, and
errors that say what to do next."""

from __future__ import annotations

import asyncio
import json
import os
import sys

from ocpi_sandbox.cli_fleet import COMMANDS as CLI_COMMANDS
from ocpi_sandbox.fleet_commands import COMMANDS
from tests.api.test_charger_commands import SLOW, charger_state
from tests.conftest import ADMIN_TOKEN, Sandbox


async def cli(sandbox: Sandbox | None, *args: str, token: str = ADMIN_TOKEN,
              url: str | None = None) -> tuple[int, str, str]:
    env = {**os.environ, "OCPI_SANDBOX_TOKEN": token, "COLUMNS": "200"}
    env.pop("OCPI_SANDBOX_ADMIN_TOKEN", None)
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "ocpi_sandbox.cli", *args, "--url", url or sandbox.base_url, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(process.communicate(), SLOW * 2)
    return process.returncode, out.decode(), err.decode()


def test_the_cli_knows_every_command_the_api_runs():
    assert CLI_COMMANDS == COMMANDS


async def test_cli_creates_a_location_and_its_chargers_with_a_progress_bar_then_runs_commands(sandbox: Sandbox):
    code, out, err = await cli(sandbox, "location", "create", "--name", "CLI depot", "--address", "Kade 1",
                               "--city", "Zwolle", "--country", "NLD", "--latitude", "52.51250",
                               "--longitude", "6.09440", "--json")
    assert code == 0, err
    location = json.loads(out)
    assert location["name"] == "CLI depot"

    code, out, err = await cli(sandbox, "chargers", "add", location["id"], "--brand", "northgrid", "--model",
                               "nordwall-22", "--count", "3", "--identity-prefix", "CLI-", "--id", "A", "--id", "B",
                               "--ocpp-version", "1.6", "--set", "HeartbeatInterval=600")
    assert code == 0, err
    assert "READY: 3 created, 0 failed" in out
    assert "3/3" in err  # the progress bar's last state
    listed = (await sandbox.api.get(f"/api/locations/{location['id']}/chargers")).json()
    identities = {c["identity"] for c in listed}
    assert len(identities) == 3 and {"CLI-A", "CLI-B"} <= identities
    for charger in listed:
        await charger_state(sandbox, charger["id"], lambda s: s["link"]["connected"] and
                            s["simulator"]["boot_status"] == "Accepted")

    # One charger, by identity: what the simulator did and its frames.
    code, out, err = await cli(sandbox, "command", "plug-in", "--charger", "CLI-A")
    assert code == 0, err
    assert "plug-in on CLI-A: ok" in out and "StatusNotification" in out
    # A refusal exits 1 with the simulator's reason.
    code, out, err = await cli(sandbox, "command", "stop-transaction", "--charger", "CLI-A")
    assert code == 1 and "has no transaction" in out
    code, out, err = await cli(sandbox, "command", "update-configuration", "--charger", "CLI-B", "--set",
                               "MeterValueSampleInterval=30", "--json")
    assert code == 0 and json.loads(out)["result"]["keys"]["MeterValueSampleInterval"]["status"] == "Accepted"

    # The whole location, with one charger offline: the others still run, the offline one is reported.
    code, out, err = await cli(sandbox, "command", "disconnect", "--charger", "CLI-B", "--stay-offline")
    assert code == 0, err
    code, out, err = await cli(sandbox, "command", "swipe-card", "--location", location["id"], "--id-token", "CARD1")
    assert code == 1, err
    assert "3 chargers: 2 ok, 1 failed" in out and "offline" in out


async def test_cli_tails_a_charger_log_and_follows_its_live_stream(sandbox: Sandbox):
    site = (await sandbox.api.post("/api/locations", json={
        "name": "Tail", "address": "A 1", "city": "Ede", "country": "NLD", "latitude": "52.04000",
        "longitude": "5.66000", "time_zone": "Europe/Amsterdam"})).json()
    charger = (await sandbox.api.post("/api/chargers", json={"location_id": site["id"], "brand_slug": "northgrid",
                                                             "model_slug": "nordwall-22", "ocpp_version": "2.0.1",
                                                             "identity": "TAIL-1"})).json()
    await charger_state(sandbox, charger["id"], lambda s: s["link"]["connected"] and
                        s["simulator"]["boot_status"] == "Accepted")
    await sandbox.service("frame_log").flush()

    code, out, err = await cli(sandbox, "logs", "TAIL-1", "--action", "BootNotification")
    assert code == 0, err
    assert [line.split()[1:4] for line in out.splitlines()] == [["→", "CALL", "BootNotification"],
                                                                ["←", "RESULT", "BootNotification"]]

    env = {**os.environ, "OCPI_SANDBOX_TOKEN": ADMIN_TOKEN}
    tail = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "ocpi_sandbox.cli", "logs", "TAIL-1", "--follow", "--lines", "0", "--json",
        "--url", sandbox.base_url, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    try:
        async with asyncio.timeout(SLOW):
            assert "following TAIL-1" in (await tail.stderr.readline()).decode()
            plugged = (await sandbox.api.post(f"/api/chargers/{charger['id']}/commands/plug-in",
                                              timeout=SLOW)).json()
            wanted = {f["unique_id"] for f in plugged["frames"]}
            seen: set[str] = set()
            while not wanted <= seen:
                frame = json.loads(await tail.stdout.readline())
                seen.add(frame["unique_id"])
    finally:
        tail.terminate()
        await tail.wait()


async def test_cli_errors_say_what_to_do_next(sandbox: Sandbox):
    code, out, err = await cli(sandbox, "location", "list", token="not-a-token")
    assert code == 1 and "--token" in err and "OCPI_SANDBOX_TOKEN" in err
    code, out, err = await cli(None, "location", "list", url="http://127.0.0.1:9")
    assert code == 1 and "ocpi-sandbox serve" in err and "--url" in err
    code, out, err = await cli(sandbox, "command", "plug-in", "--charger", "NO-SUCH-CHARGER")
    assert code == 1 and "ocpi-sandbox chargers list" in err
    code, out, err = await cli(sandbox, "command", "plug-in")
    assert code == 2 and "--charger" in err
    code, out, err = await cli(sandbox, "chargers", "add", "no-such-location", "--brand", "northgrid", "--model",
                               "nordwall-22", "--count", "1")
    assert code == 1 and "404" in err
