"""Durable jobs: work submitted through the API that survives restarts, item by item.

A job is a row in ``jobs`` plus one row per item in ``job_steps``. ``records.submit_job`` stores both (with the
tenant's ``Idempotency-Key``), the controller then calls ``JobRunner.wake()``, and the runner (``runner.py``)
claims the job, works through its steps in batches with retries, and ends it READY (every step finished and
at least one succeeded) or FAILED. ``GET /api/jobs/{id}`` shows status, progress and per-item results.

Adding a job kind (the bundles helper does this for ``POST /api/bundles``):

1. Write one module here, e.g. ``jobs/bundles.py``, with

   - a planning function the controller calls inside ``submit_job(..., plan=...)``: it validates the request
     (raise ``domain.errors.InvalidInput``/``NotFound``, which the API turns into 4xx) and returns
     ``(params, items)``: ``params`` is what every step needs (stored once on the job), ``items`` a list of
     ``(key, item_params)``, one per step, in order. Fix anything random (generated ids, identities) here, so
     a rerun of a step after a crash does the same thing;
   - a ``JobKind`` subclass (``kind.py``) with a unique ``name``, ``results_key`` (``created``, ``updated`` or
     ``deleted``: where the status view lists the steps' results) and ``batch_size``, implementing ``run``
     (do a batch in the given session, without committing; return an ``Outcome`` per step), and when needed
     ``prepare`` (I/O before the transaction), ``committed`` (after it: start simulators), ``confirm`` (settle
     ``started`` steps, e.g. wait until a charger has booted) and ``finish`` (the job's own ``result``, e.g.
     ``{"bundle_id": ...}``). Every hook must be idempotent: recognise work already done by the ids fixed
     at planning.

2. Register it in ``app.py``: ``job_runner.register(Bundles(...))`` next to the charger kinds, and add the
   route that submits it (it gets ``job_runner`` by dependency injection and answers ``job_accepted(job)``
   from ``api/jobs.py``, a 202 with ``{job_id, status, status_url}``).

Steps may be reordered or split into several kinds of work by their ``key``/``params``; a kind that creates
objects of several types (a bundle: party, tariffs, locations, chargers) can give each step a ``type`` in its
params and dispatch on it in ``run``.
"""

from .kind import JobKind, JobView, Outcome, Step
from .records import submit_job
from .runner import JobRunner

__all__ = ["JobKind", "JobRunner", "JobView", "Outcome", "Step", "submit_job"]
