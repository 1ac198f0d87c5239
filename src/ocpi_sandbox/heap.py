"""Keep Python's cyclic garbage collector off the fleet's long-lived objects.

Thousands of simulated stations and their connections are millions of long-lived objects. CPython's full
(generation 2) collection walks all of them, and a busy event loop promotes survivors fast enough to trigger one
every few seconds: measured with 3,000 chargers, a 1.2 s pause every 5-10 s, a fifth of a core, growing with the
fleet (docs/performance.md). Two changes:

- The youngest generation is collected every 50,000 allocations instead of 700: an event loop's short-lived
  objects (futures, frames, rows) are then mostly gone by refcount before a collection could promote them.
- What has survived a minute is frozen (``gc.freeze``): out of the collector's sight, so a full collection walks
  only what is younger. Once an hour everything is thawed and collected for real, which frees the cycles of what
  went away meanwhile (a deleted charger's objects).
"""

from __future__ import annotations

import gc
import logging
import time

__all__ = ["tune_collector", "freeze_survivors", "collect_everything"]

log = logging.getLogger(__name__)


def tune_collector() -> None:
    gc.set_threshold(50_000, 20, 20)


def freeze_survivors() -> None:
    """Collect what is not frozen yet, then freeze what survived (every minute)."""
    gc.collect()
    gc.freeze()


def collect_everything() -> None:
    """A full collection of every object, frozen ones included, then freeze again (every hour)."""
    started = time.perf_counter()
    gc.unfreeze()
    freed = gc.collect()
    gc.freeze()
    log.info("full garbage collection: %d objects freed in %.2f s", freed, time.perf_counter() - started)
