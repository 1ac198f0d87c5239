"""What a job kind implements: how to do a batch of steps, and optionally how to confirm and finish them.

The runner (``runner.py``) owns claiming, leases, retries, per-step isolation and progress; a kind only does the
work. Every hook must be idempotent: a step may run again after a crash or a retry, so a kind recognises work
it already did (by a key or an id fixed when the job was submitted) instead of doing it twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar, Literal

from sqlalchemy.ext.asyncio import AsyncSession

__all__ = ["JobKind", "JobView", "Outcome", "Step"]


@dataclass(frozen=True, kw_only=True)
class JobView:
    """The job a kind works for, as it was submitted."""

    id: str
    tenant_id: str
    kind: str
    params: dict[str, Any]


@dataclass(kw_only=True)
class Step:
    """One item of a job, as the runner holds it in memory while the job runs."""

    seq: int
    key: str
    params: dict[str, Any]
    status: str
    attempts: int = 0
    next_attempt_at: datetime | None = None
    result: dict[str, Any] | None = None
    error: str | None = None


@dataclass(frozen=True, kw_only=True)
class Outcome:
    """What became of one step.

    ``done``/``failed`` are final; ``started`` means the effect is committed but awaits ``JobKind.confirm``
    (a charger created that still has to boot); ``retry`` means it did not take effect and may be tried again.
    ``keep`` is handed to ``JobKind.committed`` and never stored (e.g. the ORM row just added).
    """

    status: Literal["done", "failed", "started", "retry"]
    result: dict[str, Any] | None = None
    error: str | None = None
    keep: Any = None

    @classmethod
    def done(cls, result: dict[str, Any] | None = None, keep: Any = None) -> Outcome:
        return cls(status="done", result=result, keep=keep)

    @classmethod
    def started(cls, result: dict[str, Any] | None = None, keep: Any = None) -> Outcome:
        return cls(status="started", result=result, keep=keep)

    @classmethod
    def failed(cls, error: str, result: dict[str, Any] | None = None) -> Outcome:
        return cls(status="failed", error=error, result=result)

    @classmethod
    def retry(cls, error: str) -> Outcome:
        return cls(status="retry", error=error)


class JobKind:
    """Base of every job kind; subclass it, set ``name``, and implement ``run`` (the other hooks are optional)."""

    name: ClassVar[str]
    # The key of ``results`` under which the job's status view lists finished steps' results.
    results_key: ClassVar[Literal["created", "updated", "deleted"]] = "created"
    # Steps handed to ``run`` at once: one transaction per batch, so large batches make large jobs fast.
    batch_size: ClassVar[int] = 100

    async def prepare(self, job: JobView, steps: list[Step]) -> None:
        """Do what must happen before the batch's transaction and outside it (network I/O: stop a simulator)."""

    async def run(self, session: AsyncSession, job: JobView, steps: list[Step]) -> dict[int, Outcome]:
        """Do ``steps`` in ``session`` without committing; return an outcome per step ``seq``.

        The runner writes the outcomes in the same transaction and commits, so a step's effect and its record
        land together. When the commit or this call raises, the runner redoes the batch one step at a time, so
        one bad item costs only itself. A step missing from the answer is retried.
        """
        raise NotImplementedError

    async def committed(self, job: JobView, done: list[tuple[Step, Outcome]]) -> None:
        """React to a committed batch, outside any transaction (start the simulators of new chargers)."""

    async def confirm(self, job: JobView, steps: list[Step]) -> dict[int, Outcome]:
        """Check ``started`` steps; return outcomes for those that are settled (leave out those still waiting).

        Called between batches and then every ``confirm_interval`` until no step is ``started``; a kind bounds
        the wait itself and fails a step that takes too long.
        """
        return {step.seq: Outcome.done(step.result) for step in steps}

    async def finish(self, session: AsyncSession, job: JobView, done: int, failed: int) -> dict[str, Any] | None:
        """Return the job's own result (e.g. ``{"bundle_id": ...}``), in the transaction that ends the job."""
        return None
