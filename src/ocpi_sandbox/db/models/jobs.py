"""Durable jobs: one row per submitted job, one row per item (step) it works through."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, UtcDateTime, new_id, utcnow

__all__ = ["Job", "JobStatus", "JobStep", "StepStatus"]


class JobStatus:
    PENDING = "PENDING"            # submitted, not claimed by a runner yet
    PROVISIONING = "PROVISIONING"  # a runner works through its steps
    READY = "READY"                # every step finished, at least one succeeded (or there were none)
    FAILED = "FAILED"              # every step failed, or the job as a whole could not run

    UNFINISHED = (PENDING, PROVISIONING)


class StepStatus:
    PENDING = "pending"  # to do (again, after ``next_attempt_at`` when it was retried)
    STARTED = "started"  # its effect is committed and awaits confirmation (e.g. a charger that has to boot)
    DONE = "done"
    FAILED = "failed"

    UNFINISHED = (PENDING, STARTED)


class Job(Base):
    __tablename__ = "jobs"
    __table_args__ = (UniqueConstraint("tenant_id", "idempotency_key", name="uq_jobs_tenant_idempotency_key"),
                      Index("ix_jobs_tenant_created", "tenant_id", "created_at"),
                      Index("ix_jobs_status", "status"))

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(12), default=JobStatus.PENDING)
    # What the kind needs for every step (e.g. the location and the groups' templates), as submitted.
    params: Mapped[dict] = mapped_column(JSON, default=dict)
    idempotency_key: Mapped[str | None] = mapped_column(String(255), default=None)
    # Hash of kind + request, so a key reused for a different request is refused instead of silently answered.
    fingerprint: Mapped[str | None] = mapped_column(String(64), default=None)
    total: Mapped[int] = mapped_column(Integer, default=0)
    done: Mapped[int] = mapped_column(Integer, default=0)
    failed: Mapped[int] = mapped_column(Integer, default=0)
    result: Mapped[dict | None] = mapped_column(JSON, default=None)   # kind-specific (e.g. a bundle id)
    error: Mapped[str | None] = mapped_column(Text, default=None)     # why the job as a whole failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)         # how many times a runner claimed it
    # The runner working on it holds a lease it renews; another runner may take over once it lapses.
    lease_owner: Mapped[str | None] = mapped_column(String(36), default=None)
    lease_until: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)


class JobStep(Base):
    __tablename__ = "job_steps"
    __table_args__ = (Index("ix_job_steps_job_status", "job_id", "status"),)

    job_id: Mapped[str] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)  # order of the items in the request
    key: Mapped[str] = mapped_column(String(64))                 # what the item is called (a charger identity)
    params: Mapped[dict] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(10), default=StepStatus.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)
    result: Mapped[dict | None] = mapped_column(JSON, default=None)
    error: Mapped[str | None] = mapped_column(Text, default=None)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
