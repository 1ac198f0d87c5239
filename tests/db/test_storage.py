"""Storage on both backends: migrations, time zones, concurrent state changes, constraint errors."""

from __future__ import annotations

import asyncio
import base64
from datetime import UTC, datetime, timedelta

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import select, text, update

from ocpi_sandbox.db.engine import create_engine, read_only
from ocpi_sandbox.db.migrate import migrate
from ocpi_sandbox.db.models import Base, OcpiExchange, PartnerState, Tenant
from ocpi_sandbox.domain import parties as party_service
from ocpi_sandbox.domain import partners as partner_service
from ocpi_sandbox.domain import tenants as tenant_service
from ocpi_sandbox.domain.errors import Conflict
from tests.conftest import run_sandbox, serve_app
from tests.peers.emsp import FakeEmsp


async def test_migrations_reach_exactly_the_models(database_url):
    engine = create_engine(database_url)
    await migrate(engine)
    await migrate(engine)  # a second start is a no-op

    def diff(connection):  # noqa: ANN001
        return compare_metadata(MigrationContext.configure(connection, opts={"compare_type": True}), Base.metadata)

    async with engine.connect() as conn:
        assert await conn.run_sync(diff) == [], "models changed without a migration: alembic revision --autogenerate"
    await engine.dispose()


async def test_timestamps_come_back_aware_utc(sessions):
    async with sessions() as session:
        tenant = await tenant_service.ensure_default_tenant(session)
        party = await party_service.create_party(session, tenant.id, country_code="NL", party_id="TZX", name="tz")
    async with sessions() as session:
        stored = await party_service.get_party(session, tenant.id, party.id)
    assert stored.created_at.tzinfo is not None and stored.created_at.utcoffset() == timedelta(0)
    assert abs(stored.created_at - datetime.now(UTC)) < timedelta(minutes=1)


async def test_duplicate_tenant_is_a_conflict_not_a_crash(sessions):
    async with sessions() as session:
        await tenant_service.create_tenant(session, "same")
    async with sessions() as session:
        with pytest.raises(Conflict):
            await tenant_service.create_tenant(session, "same")


async def test_read_only_sessions_read_the_last_commit_while_a_writer_holds_the_lock(sessions):
    # On SQLite every other transaction takes the write lock up front (BEGIN IMMEDIATE): a read-only one must
    # not, or it waits for the writer (here: for ever, since the writer waits for it) and holds up the next.
    async with sessions() as session:
        await tenant_service.create_tenant(session, "committed")
    async with sessions() as writer:
        writer.add(Tenant(name="uncommitted", token_hash="0" * 64))
        await writer.flush()  # the write lock is held from here until the rollback
        async with read_only(sessions) as reader:
            names = await asyncio.wait_for(reader.scalars(select(Tenant.name).order_by(Tenant.name)), 10)
            assert "committed" in names.all()
            assert await reader.scalar(select(Tenant.id).where(Tenant.name == "uncommitted")) is None
            await reader.commit()
        await writer.rollback()


async def test_read_only_sessions_refuse_to_write(sessions):
    async with read_only(sessions) as session:
        session.add(Tenant(name="sneaky", token_hash="1" * 64))
        with pytest.raises(RuntimeError, match="read-only session cannot write"):
            await session.flush()
        await session.rollback()
        with pytest.raises(RuntimeError, match="read-only session cannot write"):
            await session.execute(update(Tenant).values(name="renamed"))
        assert (await session.execute(text("SELECT 1"))).scalar() == 1  # a textual read is still a read
    async with sessions() as session:
        assert await session.scalar(select(Tenant.id).where(Tenant.name == "sneaky")) is None
        assert await session.scalar(select(Tenant.id).where(Tenant.name == "renamed")) is None


async def test_concurrent_registrations_of_one_token_a_complete_once(sessions):
    async with sessions() as session:
        tenant = await tenant_service.ensure_default_tenant(session)
        party = await party_service.create_party(session, tenant.id, country_code="NL", party_id="CON", name="c")
        partner, _ = await party_service.issue_registration_token(session, party)
    roles = [{"role": "EMSP", "country_code": "DE", "party_id": "EMP", "business_details": {"name": "e"}}]

    async def attempt(n: int):
        async with sessions() as session:
            return await partner_service.complete_registration(
                session, partner.id, version="2.2.1", versions_url=f"http://127.0.0.1:1/{n}", token_b=f"b{n}",
                roles=roles, endpoints=[])

    results = await asyncio.gather(*(attempt(n) for n in range(8)), return_exceptions=True)
    assert sum(isinstance(r, str) for r in results) == 1
    assert all(isinstance(r, Conflict) for r in results if not isinstance(r, str))
    async with sessions() as session:
        stored = await partner_service.get_partner(session, tenant.id, partner.id)
        assert stored.state == PartnerState.REGISTERED
        token_c = next(r for r in results if isinstance(r, str))
        found = await partner_service.find_token_owner(session, [token_c])
        assert found is not None and found[1].partner.id == partner.id


async def test_expired_tokens_no_longer_resolve(sessions):
    async with sessions() as session:
        tenant = await tenant_service.ensure_default_tenant(session)
        party = await party_service.create_party(session, tenant.id, country_code="NL", party_id="EXP", name="e")
        partner, token_a = await party_service.issue_registration_token(session, party)
        assert await partner_service.find_token_owner(session, [token_a]) is not None
        await partner_service.unregister(session, partner.id)
        assert await partner_service.find_token_owner(session, [token_a]) is None


async def test_exchange_log_rows_keep_json_headers(sessions):
    async with sessions() as session:
        session.add(OcpiExchange(direction="inbound", method="GET", url="/ocpi/versions",
                                 request_headers={"x-request-id": "r"}, warnings=["w"]))
        await session.commit()
    async with sessions() as session:
        row = (await session.scalars(OcpiExchange.__table__.select())).first()
    assert row is not None


async def test_whole_handshake_on_this_backend(database_url):
    async with run_sandbox(database_url) as sandbox:
        party = await sandbox.create_party()
        emsp = FakeEmsp()
        header = {"Authorization": "Token " + base64.b64encode(party["token_a"].encode()).decode()}
        async with serve_app(emsp.app):
            reply = await sandbox.http.post("/ocpi/2.3.0/credentials", json=emsp.credentials(), headers=header)
        assert reply.json()["status_code"] == 1000, reply.text
        partners = (await sandbox.api.get(f"/api/parties/{party['id']}/partners")).json()
        assert partners[0]["state"] == "REGISTERED"
        assert len((await sandbox.api.get(f"/api/partners/{party['partner_id']}/log")).json()["items"]) == 3
