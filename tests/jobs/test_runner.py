"""The job runner on a real database with a job kind written for the test: batches, per-item isolation, retries,
leases and resumption."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import ClassVar

import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ocpi_sandbox.db.engine import create_engine, create_session_factory
from ocpi_sandbox.db.migrate import migrate
from ocpi_sandbox.db.models import Job, JobStep, utcnow
from ocpi_sandbox.domain import tenants as tenant_service
from ocpi_sandbox.jobs import JobKind, JobRunner, JobView, Outcome, Step, submit_job


class Tally(JobKind):
    """Counts items; "flaky" items raise on their first try, "broken" ones always, "slow" ones confirm late."""

    name: ClassVar[str] = "tally"
    batch_size: ClassVar[int] = 4

    def __init__(self) -> None:
        self.tries: dict[str, int] = {}
        self.batches: list[list[str]] = []
        self.confirmations = 0

    async def run(self, session: AsyncSession, job: JobView, steps: list[Step]) -> dict[int, Outcome]:
        self.batches.append([s.key for s in steps])
        for step in steps:
            self.tries[step.key] = self.tries.get(step.key, 0) + 1
            if step.key.startswith("broken") or (step.key.startswith("flaky") and self.tries[step.key] == 1):
                raise RuntimeError(f"{step.key} went wrong")
        return {s.seq: (Outcome.started if s.key.startswith("slow") else Outcome.done)({"key": s.key})
                for s in steps}

    async def confirm(self, job: JobView, steps: list[Step]) -> dict[int, Outcome]:
        self.confirmations += 1
        return {s.seq: Outcome.done(s.result) for s in steps} if self.confirmations >= 3 else {}

    async def finish(self, session: AsyncSession, job: JobView, done: int, failed: int) -> dict:
        return {"counted": done}


@pytest.fixture
async def sessions(sqlite_url) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = create_engine(sqlite_url)
    await migrate(engine)
    factory = create_session_factory(engine)
    async with factory() as session:
        await tenant_service.ensure_default_tenant(session)
    yield factory
    await engine.dispose()


async def _submit(sessions: async_sessionmaker[AsyncSession], keys: list[str]) -> str:
    async with sessions() as session:
        tenant_id = await tenant_service.default_tenant_id(session)

        async def plan():  # noqa: ANN202
            return {}, [(key, {}) for key in keys]

        job, _ = await submit_job(session, tenant_id, Tally.name, request=keys, plan=plan)
        return job.id


async def _run_until_finished(runner: JobRunner, sessions: async_sessionmaker[AsyncSession], job_id: str) -> Job:
    task = asyncio.create_task(runner.run())
    runner.wake()
    try:
        deadline = asyncio.get_running_loop().time() + 30
        while True:
            async with sessions() as session:
                job = await session.get(Job, job_id)
                await session.commit()
            if job.status in ("READY", "FAILED"):
                return job
            assert asyncio.get_running_loop().time() < deadline, job.status
            await asyncio.sleep(0.05)
    finally:
        task.cancel()
        await runner.close()


async def _steps(sessions: async_sessionmaker[AsyncSession], job_id: str) -> dict[str, JobStep]:
    async with sessions() as session:
        rows = (await session.scalars(select(JobStep).where(JobStep.job_id == job_id))).all()
        await session.commit()
    return {r.key: r for r in rows}


async def test_a_raising_item_is_isolated_retried_and_failed_after_its_last_attempt(sessions):
    job_id = await _submit(sessions, ["a", "flaky-1", "b", "broken-1", "c", "slow-1"])
    kind = Tally()
    runner = JobRunner(sessions, exclusive=True, retry_delay=0.01, confirm_interval=0.01)
    runner.register(kind)

    job = await _run_until_finished(runner, sessions, job_id)

    assert job.status == "READY" and (job.total, job.done, job.failed) == (6, 5, 1)
    assert job.result == {"counted": 5} and job.finished_at is not None and job.lease_owner is None
    steps = await _steps(sessions, job_id)
    assert steps["broken-1"].status == "failed" and steps["broken-1"].attempts == 3
    assert "gave up after 3 attempts: RuntimeError: broken-1 went wrong" == steps["broken-1"].error
    assert steps["flaky-1"].status == "done" and kind.tries["flaky-1"] == 2  # alone, after its batch raised
    assert all(steps[key].status == "done" for key in ("a", "b", "c"))  # the bad item cost only itself
    assert steps["slow-1"].status == "done" and kind.confirmations >= 3
    assert kind.batches[0] == ["a", "flaky-1", "b", "broken-1"]  # batch_size items at once, in request order


async def test_a_job_leased_by_a_live_runner_is_left_alone_and_taken_over_when_the_lease_lapses(sessions):
    job_id = await _submit(sessions, ["a", "b"])
    async with sessions() as session:
        await session.execute(update(Job).where(Job.id == job_id).values(
            status="PROVISIONING", lease_owner="another-process", lease_until=utcnow() + timedelta(seconds=1.5)))
        await session.commit()
    runner = JobRunner(sessions, exclusive=False)  # PostgreSQL-like: another process may hold the lease
    runner.register(Tally())
    task = asyncio.create_task(runner.run())
    await asyncio.sleep(0.5)
    async with sessions() as session:
        assert (await session.get(Job, job_id)).lease_owner == "another-process"
        await session.commit()
    await asyncio.sleep(1.5)
    await runner.sweep()  # what apscheduler does every few seconds
    task.cancel()

    job = await _run_until_finished(runner, sessions, job_id)
    assert job.status == "READY" and job.done == 2 and job.attempts == 1


async def test_an_exclusive_runner_resumes_a_dead_runners_job_at_once_without_redoing_done_steps(sessions):
    job_id = await _submit(sessions, ["a", "b", "c"])
    async with sessions() as session:  # as a killed process leaves it: one step done, the lease still running
        await session.execute(update(Job).where(Job.id == job_id).values(
            status="PROVISIONING", lease_owner="dead-process", lease_until=utcnow() + timedelta(hours=1), done=1))
        await session.execute(update(JobStep).where(JobStep.job_id == job_id, JobStep.key == "a")
                              .values(status="done"))
        await session.commit()
    kind = Tally()
    runner = JobRunner(sessions, exclusive=True)
    runner.register(kind)

    job = await _run_until_finished(runner, sessions, job_id)

    assert job.status == "READY" and job.done == 3 and "a" not in kind.tries


async def test_a_job_of_an_unknown_kind_waits_for_a_runner_that_knows_it(sessions):
    job_id = await _submit(sessions, ["a"])
    runner = JobRunner(sessions, exclusive=True)  # no kind registered
    task = asyncio.create_task(runner.run())
    await asyncio.sleep(0.3)
    task.cancel()
    async with sessions() as session:
        assert (await session.get(Job, job_id)).status == "PENDING"
        await session.commit()
