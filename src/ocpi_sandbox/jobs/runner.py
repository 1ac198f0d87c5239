"""Run submitted jobs to the end, step by step, across restarts.

A runner claims PENDING or PROVISIONING jobs of the kinds it knows by taking a lease on the row (an atomic
UPDATE, so two processes on one PostgreSQL never work on the same job), works through the job's unfinished
steps in batches (one transaction per batch: the kind's effects and the steps' outcomes commit together),
renews the lease as it goes, and ends the job READY or FAILED. A crash leaves the lease to lapse (or, on
SQLite, which one process owns, the next start takes it over at once) and the job resumes from its stored
steps; kinds recognise work already done, so nothing is done twice and nothing is lost.

The runner wakes when a job is submitted (``wake``) and on a periodic sweep (apscheduler calls ``sweep``),
which also picks up jobs left by another process.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from datetime import timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ..db.models import Job, JobStatus, JobStep, StepStatus, new_id, utcnow
from .kind import JobKind, JobView, Outcome, Step

__all__ = ["JobRunner", "LeaseLost"]

log = logging.getLogger(__name__)


# A job whose work raised this many times (a bug, not a bad item: those fail their step) is ended FAILED.
MAX_CLAIMS = 10


class LeaseLost(Exception):
    """Another runner took the job over (our lease lapsed), or the job was deleted; stop working on it."""


class JobRunner:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], *, exclusive: bool = False,
                 concurrency: int = 2, lease: float = 15.0, max_attempts: int = 3, retry_delay: float = 0.5,
                 confirm_interval: float = 0.2) -> None:
        """``exclusive``: this process alone uses the database (SQLite), so leases left by a previous run are
        taken over at start instead of waiting for them to lapse."""
        self._sessions = sessions
        self.kinds: dict[str, JobKind] = {}
        self.owner = new_id()
        self.exclusive = exclusive
        self.concurrency = concurrency
        self.lease = timedelta(seconds=lease)
        self.max_attempts = max_attempts
        self.retry_delay = retry_delay
        self.confirm_interval = confirm_interval
        self._wake = asyncio.Event()
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._renewed: dict[str, float] = {}  # job id -> loop time its lease was last extended

    def register(self, kind: JobKind) -> None:
        self.kinds[kind.name] = kind

    def wake(self) -> None:
        """Look for work now (a job was submitted, or a running one ended and freed a slot)."""
        self._wake.set()

    async def sweep(self) -> None:
        """The periodic chore: jobs another process left, or whose lease lapsed, are claimed on the next pass."""
        self.wake()

    # ------------------------------------------------------------------------------------------- main loop

    async def run(self) -> None:
        if self.exclusive:
            async with self._sessions() as session:
                await session.execute(update(Job).where(Job.status.in_(JobStatus.UNFINISHED))
                                      .values(lease_owner=None, lease_until=None))
                await session.commit()
        while True:
            self._wake.clear()
            try:
                await self._start_due()
            except Exception:  # a database hiccup must not end the runner; the next wake tries again
                log.exception("claiming jobs failed")
            await self._wake.wait()

    async def close(self) -> None:
        """Stop working; jobs in progress keep their steps and resume on the next start (or in another process)."""
        tasks = list(self._tasks.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        async with self._sessions() as session:
            await session.execute(update(Job).where(Job.lease_owner == self.owner)
                                  .values(lease_owner=None, lease_until=None))
            await session.commit()

    async def _start_due(self) -> None:
        free = self.concurrency - len(self._tasks)
        if free <= 0 or not self.kinds:
            return
        now = utcnow()
        async with self._sessions() as session:
            ids = (await session.scalars(
                select(Job.id).where(Job.status.in_(JobStatus.UNFINISHED), Job.kind.in_(list(self.kinds)),
                                     or_(Job.lease_until.is_(None), Job.lease_until < now))
                .order_by(Job.created_at).limit(free + len(self._tasks)))).all()
            await session.commit()
        for job_id in ids:
            if job_id in self._tasks or len(self._tasks) >= self.concurrency:
                continue
            task = asyncio.create_task(self._work(job_id), name=f"job {job_id}")
            self._tasks[job_id] = task
            task.add_done_callback(lambda _t, job_id=job_id: (self._tasks.pop(job_id, None), self.wake()))

    # ----------------------------------------------------------------------------------------------- a job

    async def _claim(self, job_id: str) -> tuple[JobView, dict[int, Step], int] | None:
        now = utcnow()
        async with self._sessions() as session:
            claimed = await session.execute(
                update(Job).where(Job.id == job_id, Job.status.in_(JobStatus.UNFINISHED),
                                  or_(Job.lease_until.is_(None), Job.lease_until < now, Job.lease_owner == self.owner))
                .values(status=JobStatus.PROVISIONING, lease_owner=self.owner, lease_until=now + self.lease,
                        attempts=Job.attempts + 1, updated_at=now))
            if claimed.rowcount != 1:
                await session.rollback()
                return None
            job = await session.get(Job, job_id)
            rows = (await session.scalars(select(JobStep).where(
                JobStep.job_id == job_id, JobStep.status.in_(StepStatus.UNFINISHED)).order_by(JobStep.seq))).all()
            view = JobView(id=job.id, tenant_id=job.tenant_id, kind=job.kind, params=job.params)
            steps = {r.seq: Step(seq=r.seq, key=r.key, params=r.params, status=r.status, attempts=r.attempts,
                                 next_attempt_at=r.next_attempt_at, result=r.result, error=r.error) for r in rows}
            attempts = job.attempts
            await session.commit()
        return view, steps, attempts

    async def _work(self, job_id: str) -> None:
        claimed = await self._claim(job_id)
        if claimed is None:
            return
        job, steps, attempts = claimed
        kind = self.kinds[job.kind]
        try:
            while True:
                now = utcnow()
                due = [s for s in steps.values() if s.status == StepStatus.PENDING
                       and (s.next_attempt_at is None or s.next_attempt_at <= now)]
                if due:
                    await self._run_batch(job, kind, steps, due[:kind.batch_size])
                    await self._confirm(job, kind, steps)
                    continue
                if not steps:
                    break
                if any(s.status == StepStatus.STARTED for s in steps.values()):
                    await self._confirm(job, kind, steps)
                await asyncio.sleep(self.confirm_interval)
                await self._renew(job)
            await self._finish(job, kind)
        except LeaseLost:
            log.warning("job %s: taken over by another runner, or deleted; stopped working on it", job_id)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            if attempts >= MAX_CLAIMS:
                log.exception("job %s failed for the %dth time; giving up", job_id, attempts)
                await self._give_up(job, f"the job stopped {attempts} times; last error {type(exc).__name__}: {exc}")
                return
            # Leave the job to the sweep: the lease lapses and the job resumes from its stored steps.
            log.exception("job %s stopped; it resumes on the next sweep", job_id)
            await asyncio.sleep(self.lease.total_seconds())
        finally:
            self._renewed.pop(job_id, None)

    async def _run_batch(self, job: JobView, kind: JobKind, steps: dict[int, Step], batch: list[Step]) -> None:
        try:
            await kind.prepare(job, batch)
            async with self._sessions() as session:
                outcomes = await kind.run(session, job, batch)
                outcomes = {s.seq: outcomes.get(s.seq) or Outcome.retry("the job kind gave no outcome")
                            for s in batch}
                await self._record(session, job, steps, batch, outcomes)
                await session.commit()
        except (LeaseLost, asyncio.CancelledError):
            raise
        except Exception as exc:
            if len(batch) > 1:  # find the bad item: each step alone, so the others still succeed
                for step in batch:
                    await self._run_batch(job, kind, steps, [step])
                return
            log.info("job %s step %s (%s) failed: %r", job.id, batch[0].seq, batch[0].key, exc)
            outcomes = {batch[0].seq: Outcome.retry(f"{type(exc).__name__}: {exc}")}
            async with self._sessions() as session:
                await self._record(session, job, steps, batch, outcomes)
                await session.commit()
            self._apply(steps, batch, outcomes)
            return
        settled = self._apply(steps, batch, outcomes)
        if settled:
            await kind.committed(job, settled)

    async def _confirm(self, job: JobView, kind: JobKind, steps: dict[int, Step]) -> None:
        started = [s for s in steps.values() if s.status == StepStatus.STARTED]
        if not started:
            return
        outcomes = await kind.confirm(job, started)
        if not outcomes:
            return
        settled = [s for s in started if s.seq in outcomes]
        async with self._sessions() as session:
            await self._record(session, job, steps, settled, outcomes)
            await session.commit()
        self._apply(steps, settled, outcomes)

    def _final(self, step: Step, outcome: Outcome) -> tuple[str, str | None, int]:
        """The status, error and attempts a step gets from ``outcome`` (a retry past the limit fails it)."""
        if outcome.status != "retry":
            return {"done": StepStatus.DONE, "failed": StepStatus.FAILED,
                    "started": StepStatus.STARTED}[outcome.status], outcome.error, step.attempts + 1
        attempts = step.attempts + 1
        if attempts >= self.max_attempts:
            return StepStatus.FAILED, f"gave up after {attempts} attempts: {outcome.error}", attempts
        return StepStatus.PENDING, outcome.error, attempts

    async def _record(self, session: AsyncSession, job: JobView, steps: dict[int, Step], batch: Iterable[Step],
                      outcomes: dict[int, Outcome]) -> None:
        """Stage the steps' outcomes and the job's progress in ``session``; raise LeaseLost if no longer ours."""
        now = utcnow()
        rows, done, failed = [], 0, 0
        for step in batch:
            outcome = outcomes[step.seq]
            status, error, attempts = self._final(step, outcome)
            retry_at = (now + timedelta(seconds=self.retry_delay * 2 ** (attempts - 1))
                        if status == StepStatus.PENDING else None)
            rows.append({"job_id": job.id, "seq": step.seq, "status": status, "attempts": attempts, "error": error,
                         "result": outcome.result if outcome.result is not None else step.result,
                         "next_attempt_at": retry_at, "updated_at": now})
            done += status == StepStatus.DONE
            failed += status == StepStatus.FAILED
        ours = await session.execute(
            update(Job).where(Job.id == job.id, Job.lease_owner == self.owner)
            .values(done=Job.done + done, failed=Job.failed + failed, updated_at=now, lease_until=now + self.lease))
        if ours.rowcount != 1:  # checked first: the caller rolls the kind's work back with it
            raise LeaseLost(job.id)
        if rows:
            await session.execute(update(JobStep), rows)  # bulk UPDATE by primary key: one statement, many rows
        self._renewed[job.id] = asyncio.get_running_loop().time()

    def _apply(self, steps: dict[int, Step], batch: list[Step], outcomes: dict[int, Outcome]
               ) -> list[tuple[Step, Outcome]]:
        """Mirror committed outcomes in memory; return the (step, outcome) pairs that took effect."""
        now, settled = utcnow(), []
        for step in batch:
            outcome = outcomes[step.seq]
            status, error, attempts = self._final(step, outcome)
            step.status, step.error, step.attempts = status, error, attempts
            if outcome.result is not None:
                step.result = outcome.result
            if status == StepStatus.PENDING:
                step.next_attempt_at = now + timedelta(seconds=self.retry_delay * 2 ** (attempts - 1))
            if outcome.status in ("done", "started"):
                settled.append((step, outcome))
            if status in (StepStatus.DONE, StepStatus.FAILED):
                del steps[step.seq]
        return settled

    async def _renew(self, job: JobView) -> None:
        """Extend the lease once a third of it has passed (every batch and confirmation extends it too)."""
        clock = asyncio.get_running_loop().time()
        if clock - self._renewed.get(job.id, 0.0) < self.lease.total_seconds() / 3:
            return
        self._renewed[job.id] = clock
        now = utcnow()
        async with self._sessions() as session:
            ours = await session.execute(update(Job).where(Job.id == job.id, Job.lease_owner == self.owner)
                                         .values(lease_until=now + self.lease))
            if ours.rowcount != 1:
                await session.rollback()
                raise LeaseLost(job.id)
            await session.commit()

    async def _give_up(self, job: JobView, error: str) -> None:
        async with self._sessions() as session:
            await session.execute(update(Job).where(Job.id == job.id).values(
                status=JobStatus.FAILED, error=error, finished_at=utcnow(), updated_at=utcnow(), lease_owner=None,
                lease_until=None))
            await session.commit()

    async def _finish(self, job: JobView, kind: JobKind) -> None:
        async with self._sessions() as session:
            row = await session.get(Job, job.id)
            if row is None:
                return  # deleted with its tenant
            if row.lease_owner != self.owner:
                raise LeaseLost(job.id)
            result = await kind.finish(session, job, row.done, row.failed)
            now = utcnow()
            row.result = result
            if row.total and not row.done:
                row.status, row.error = JobStatus.FAILED, "every item failed; see results.failed for why"
            else:
                row.status = JobStatus.READY
            row.finished_at = row.updated_at = now
            row.lease_owner = row.lease_until = None
            await session.commit()
