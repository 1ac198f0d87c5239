"""What the job tests share: a location to fill, and polling a job until it ends."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

SITE = {"name": "Bulk site", "address": "Bulkweg 1", "city": "Zwolle", "country": "NLD", "latitude": "52.51250",
        "longitude": "6.09440", "time_zone": "Europe/Amsterdam"}


async def create_location(api: httpx.AsyncClient) -> str:
    reply = await api.post("/api/locations", json=SITE)
    assert reply.status_code == 201, reply.text
    return reply.json()["id"]


async def wait_job(api: httpx.AsyncClient, status_url: str, timeout: float = 90.0) -> dict[str, Any]:
    """Poll the job until it is READY or FAILED (generous deadline: the machine is shared)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        reply = await api.get(status_url, params={"results": "false"}, timeout=30)
        assert reply.status_code == 200, reply.text
        job = reply.json()
        if job["status"] in ("READY", "FAILED"):
            return (await api.get(status_url, timeout=30)).json()
        assert asyncio.get_running_loop().time() < deadline, {k: job[k] for k in ("status", "progress")}
        await asyncio.sleep(0.2)


async def charger_states(api: httpx.AsyncClient, charger_ids: list[str]) -> list[dict[str, Any]]:
    """The live state of each charger, as GET /api/chargers/{id} shows it (fetched 25 at a time)."""
    states: list[dict[str, Any]] = []
    for start in range(0, len(charger_ids), 25):
        replies = await asyncio.gather(*(api.get(f"/api/chargers/{cid}", timeout=30)
                                         for cid in charger_ids[start:start + 25]))
        for reply in replies:
            assert reply.status_code == 200, reply.text
            states.append(reply.json()["state"])
    return states
