"""A bulk-create job whose sandbox process is killed (SIGKILL) mid-way finishes after a restart with exactly the
requested chargers: none twice, none missing, every one connected to the embedded CSMS."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

from tests.jobs.jobs_client import SITE, charger_states, wait_job
from tests.sandbox_process import sandbox_process

CHARGERS = 400


def _stored_chargers(db: Path) -> int:
    with sqlite3.connect(db, timeout=30) as con:
        return con.execute("select count(*) from chargers").fetchone()[0]


async def test_job_killed_mid_way_finishes_after_restart_with_exactly_the_requested_chargers(tmp_path):
    db = tmp_path / "sandbox.db"
    database_url = f"sqlite+aiosqlite:///{db}"
    identities = {f"KILL-{n:04d}" for n in range(CHARGERS)}
    async with sandbox_process(database_url, tmp_path) as sandbox:
        api = sandbox.api
        location_id = (await api.post("/api/locations", json=SITE)).json()["id"]
        reply = await api.post(f"/api/locations/{location_id}/chargers", json=[{
            "template": {"brand_slug": "voltstream", "model_slug": "homebox-7", "identity_prefix": "KILL-"},
            "charger_ids": [i.removeprefix("KILL-") for i in sorted(identities)]}])
        assert reply.status_code == 202, reply.text
        status_url = reply.json()["status_url"]
        # Kill as soon as the first chargers are stored: the rest are still to be created, or to boot.
        deadline = asyncio.get_running_loop().time() + 60
        while _stored_chargers(db) == 0:
            assert asyncio.get_running_loop().time() < deadline, "no charger was created in 60 s"
            await asyncio.sleep(0.02)
        sandbox.kill()
    with sqlite3.connect(db) as con:
        [(status, done)] = con.execute("select status, done from jobs").fetchall()
    assert status == "PROVISIONING" and done < CHARGERS, "the job ended before the kill; nothing was proven"

    async with sandbox_process(database_url, tmp_path) as sandbox:
        api = sandbox.api
        job = await wait_job(api, status_url, timeout=180)
        assert job["status"] == "READY", job["results"]["failed"][:5]
        assert job["progress"] == {"total": CHARGERS, "done": CHARGERS, "failed": 0}
        assert {c["identity"] for c in job["results"]["created"]} == identities
        listed = (await api.get(f"/api/locations/{location_id}/chargers")).json()
        assert len(listed) == CHARGERS and {c["identity"] for c in listed} == identities
        assert _stored_chargers(db) == CHARGERS
        states = await charger_states(api, [c["id"] for c in listed])
        assert all(s["connected"] and s["boot_status"] == "Accepted" for s in states)
