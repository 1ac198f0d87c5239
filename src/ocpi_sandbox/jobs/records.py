"""Submit jobs and read them back, tenant-scoped; an Idempotency-Key answers a retried request with its job."""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable
from typing import Any

import msgspec
from sqlalchemy import func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from ..db.models import Job, JobStatus, JobStep, StepStatus, new_id, utcnow
from ..domain.errors import Conflict, NotFound

__all__ = ["Plan", "submit_job", "get_job", "list_jobs", "count_jobs", "finished_steps"]

# A plan is the job's params and its items as (key, params), in order; computed only for a new job.
Plan = tuple[dict[str, Any], list[tuple[str, dict[str, Any]]]]


def _fingerprint(kind: str, request: Any) -> str:
    return hashlib.sha256(kind.encode() + b"\0" + msgspec.json.encode(request, order="sorted")).hexdigest()


async def _by_key(session: AsyncSession, tenant_id: str, key: str, fingerprint: str) -> Job | None:
    job = await session.scalar(select(Job).where(Job.tenant_id == tenant_id, Job.idempotency_key == key))
    if job is not None and job.fingerprint != fingerprint:
        raise Conflict(f"Idempotency-Key {key!r} was already used for a different request (job {job.id}); "
                       "send a new key for a new request, or the same request to get that job back")
    return job


async def submit_job(session: AsyncSession, tenant_id: str, kind: str, *, request: Any,
                     plan: Callable[[], Awaitable[Plan]], idempotency_key: str | None = None) -> tuple[Job, bool]:
    """Store a new job of ``kind`` with the steps ``plan()`` gives; return (job, whether it is new).

    ``request`` is what the client sent: with an ``idempotency_key`` the same key and request return the first
    job (planned once, so random parts such as generated identities stay as they were); the same key with
    another request is a Conflict. The caller wakes the runner once this returns.
    """
    fingerprint = _fingerprint(kind, request)
    if idempotency_key is not None:
        existing = await _by_key(session, tenant_id, idempotency_key, fingerprint)
        if existing is not None:
            await session.commit()
            return existing, False
    params, items = await plan()
    now = utcnow()
    job = Job(id=new_id(), tenant_id=tenant_id, kind=kind, status=JobStatus.PENDING, params=params,
              idempotency_key=idempotency_key, fingerprint=fingerprint, total=len(items), done=0, failed=0,
              attempts=0, created_at=now, updated_at=now)
    session.add(job)
    try:
        await session.flush()
        if items:  # one multi-row INSERT, not one per item: a job of thousands is submitted at once
            await session.execute(insert(JobStep), [
                {"job_id": job.id, "seq": seq, "key": key, "params": item, "status": StepStatus.PENDING,
                 "attempts": 0, "updated_at": now} for seq, (key, item) in enumerate(items)])
        await session.commit()
    except IntegrityError:
        await session.rollback()
        if idempotency_key is None:
            raise
        # The same key arrived twice at once: the other request stored the job first.
        existing = await _by_key(session, tenant_id, idempotency_key, fingerprint)
        await session.commit()
        if existing is None:
            raise
        return existing, False
    return job, True


async def get_job(session: AsyncSession, tenant_id: str, job_id: str) -> Job:
    job = await session.get(Job, job_id)
    if job is None or job.tenant_id != tenant_id:
        raise NotFound(f"no job {job_id} in this tenant; list them with GET /api/jobs")
    return job


async def list_jobs(session: AsyncSession, tenant_id: str, *, offset: int, limit: int) -> list[Job]:
    query = (select(Job).where(Job.tenant_id == tenant_id).order_by(Job.created_at.desc(), Job.id)
             .offset(offset).limit(limit))
    return list((await session.scalars(query)).all())


async def count_jobs(session: AsyncSession, tenant_id: str) -> int:
    return await session.scalar(select(func.count()).select_from(Job).where(Job.tenant_id == tenant_id)) or 0


async def finished_steps(session: AsyncSession, job: Job) -> list[tuple[str, str, dict[str, Any] | None, str | None]]:
    """(key, status, result, error) of the job's done and failed steps, in request order."""
    rows = await session.execute(select(JobStep.key, JobStep.status, JobStep.result, JobStep.error)
                                 .where(JobStep.job_id == job.id,
                                        JobStep.status.in_((StepStatus.DONE, StepStatus.FAILED)))
                                 .order_by(JobStep.seq))
    return [tuple(row) for row in rows]
