"""Jobs: the status of durable work (bulk charger changes, bundles), with progress and per-item results."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

import msgspec
from litestar import Controller, Response, get
from litestar.params import Parameter
from sqlalchemy.ext.asyncio import AsyncSession

from ..db.models import Job
from ..jobs import JobRunner
from ..jobs import records as job_records
from .errors import error_responses

__all__ = ["JobsController", "JobAccepted", "job_accepted", "IdempotencyKey"]

# The same key (per tenant) and the same request return the job of the first request instead of a new one.
IdempotencyKey = Annotated[str | None, Parameter(
    header="Idempotency-Key", required=False, min_length=1, max_length=255,
    description="Retry-safe submission: the same key and body return the first request's job; the same key "
                "with another body is 409.")]


class JobAccepted(msgspec.Struct, kw_only=True):
    job_id: str
    status: Literal["PENDING", "PROVISIONING", "READY", "FAILED"]
    status_url: str


class Progress(msgspec.Struct, kw_only=True):
    total: int
    done: int
    failed: int


class ItemFailure(msgspec.Struct, kw_only=True):
    identity: str  # what the item is called: a charger's identity
    error: str


class JobResults(msgspec.Struct, kw_only=True, omit_defaults=True):
    """Finished items: what each made (under the job kind's key) or why it failed."""

    failed: list[ItemFailure]
    created: list[dict[str, Any]] | None = None  # bulk create: the chargers, as GET /api/chargers/{id} (no state)
    updated: list[dict[str, Any]] | None = None
    deleted: list[dict[str, Any]] | None = None


class JobOut(msgspec.Struct, kw_only=True):
    job_id: str
    kind: str
    # PENDING: waiting for a runner; PROVISIONING: in progress; READY: every item finished, at least one
    # succeeded (see results.failed for the others); FAILED: every item failed, or the job could not run.
    status: Literal["PENDING", "PROVISIONING", "READY", "FAILED"]
    progress: Progress
    results: JobResults | None = None  # left out of the list view
    result: dict[str, Any] | None = None  # kind-specific, e.g. {"bundle_id": ...}
    error: str | None = None
    created_at: datetime
    updated_at: datetime
    finished_at: datetime | None = None


class JobPage(msgspec.Struct, kw_only=True):
    items: list[JobOut]
    total: int
    offset: int
    limit: int


def job_accepted(job: Job) -> Response[JobAccepted]:
    """The 202 answer of every route that submits a job."""
    url = f"/api/jobs/{job.id}"
    return Response(JobAccepted(job_id=job.id, status=job.status, status_url=url), status_code=202,
                    headers={"Location": url})


def job_out(job: Job, results: JobResults | None = None) -> JobOut:
    return JobOut(job_id=job.id, kind=job.kind, status=job.status,
                  progress=Progress(total=job.total, done=job.done, failed=job.failed), results=results,
                  result=job.result, error=job.error, created_at=job.created_at, updated_at=job.updated_at,
                  finished_at=job.finished_at)


class JobsController(Controller):
    path = "/api/jobs"
    tags = ["jobs"]

    @get("/", operation_id="listJobs", responses=error_responses(400, 401, 403, 404))
    async def list(self, tenant_id: str, db_session: AsyncSession,
                   offset: Annotated[int, Parameter(ge=0, le=1_000_000_000)] = 0,
                   limit: Annotated[int, Parameter(ge=1, le=1000)] = 100) -> JobPage:
        """List this tenant's jobs, newest first (without their per-item results)."""
        jobs = await job_records.list_jobs(db_session, tenant_id, offset=offset, limit=limit)
        total = await job_records.count_jobs(db_session, tenant_id)
        return JobPage(items=[job_out(j) for j in jobs], total=total, offset=offset, limit=limit)

    @get("/{id:str}", operation_id="getJob", responses=error_responses(400, 401, 403, 404))
    async def show(self, id: str, tenant_id: str, db_session: AsyncSession,  # noqa: A002
                   job_runner: JobRunner,
                   results: Annotated[bool, Parameter(description="false: status and progress only (for polling "
                                                                  "a large job)")] = True) -> JobOut:
        """Show a job: status, progress, and each finished item's result or error."""
        job = await job_records.get_job(db_session, tenant_id, id)
        if not results:
            return job_out(job)
        kind = job_runner.kinds.get(job.kind)
        key = kind.results_key if kind is not None else "created"
        found = JobResults(failed=[], **{key: []})
        for name, status, result, error in await job_records.finished_steps(db_session, job):
            if status == "failed":
                found.failed.append(ItemFailure(identity=name, error=error or "failed"))
            else:
                getattr(found, key).append(result or {"identity": name})
        return job_out(job, found)
