"""Station records by group commit (csms/station_records.py), on both backends: a burst of stations' connects,
boots and statuses lands as if written one by one, each caller sees its own write stored, and one bad write
fails only its own caller."""

from __future__ import annotations

import asyncio

from sqlalchemy import select

from ocpi_sandbox.csms.station_records import StationRecords
from ocpi_sandbox.db.models import CsmsConnector, CsmsStation


async def _boot(records: StationRecords, identity: str) -> list[bool]:
    await records.connected(identity, "2.0.1", None)
    await records.booted(identity, vendor="V", model="M", serial_number=f"SN-{identity}", firmware_version="1",
                         status="Accepted")
    return [await records.status(identity, 1, 1, "Available", None, None),
            await records.status(identity, 1, 1, "Available", None, None),  # a repeat is no change
            await records.status(identity, 1, 1, "Occupied", None, None)]


async def test_a_burst_of_boots_is_stored_as_written_one_by_one(sessions):
    records = StationRecords(sessions)
    changes = await asyncio.gather(*(_boot(records, f"GC-{n:03d}") for n in range(200)))
    assert changes == [[True, False, True]] * 200
    await records.disconnected("GC-007", "2.0.1", None)
    async with sessions() as session:
        stations = {s.identity: s for s in await session.scalars(select(CsmsStation))}
        connectors = {c.identity: c for c in await session.scalars(select(CsmsConnector))}
    assert len(stations) == 200 and len(connectors) == 200
    assert {s.registration_status for s in stations.values()} == {"Accepted"}
    assert stations["GC-042"].serial_number == "SN-GC-042" and stations["GC-042"].connected
    assert not stations["GC-007"].connected
    assert {c.status for c in connectors.values()} == {"Occupied"}


async def test_the_first_status_after_a_reconnect_counts_as_a_change(sessions):
    records = StationRecords(sessions)
    await records.connected("GC-R", "1.6", None)
    assert await records.status("GC-R", 1, 1, "Available", None, None)
    assert not await records.status("GC-R", 1, 1, "Available", None, None)
    await records.connected("GC-R", "1.6", None)  # the station re-announces itself: tell the eMSP again
    assert await records.status("GC-R", 1, 1, "Available", None, None)


async def test_a_bad_write_fails_only_its_caller(sessions):
    records = StationRecords(sessions)
    await records.connected("GC-OK", "1.6", None)
    # A status of a station that was never recorded breaks the foreign key; the others in its batch are stored.
    outcomes = await asyncio.gather(records.status("GC-GHOST", 1, 1, "Available", None, None),
                                    records.status("GC-OK", 1, 1, "Faulted", "GroundFailure", "lost earth"),
                                    return_exceptions=True)
    assert isinstance(outcomes[0], Exception) and outcomes[1] is True
    async with sessions() as session:
        stored = await session.get(CsmsConnector, ("GC-OK", 1, 1))
    assert (stored.status, stored.error_code, stored.info) == ("Faulted", "GroundFailure", "lost earth")
