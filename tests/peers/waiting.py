"""Wait for something the sandbox does in the background (a push, a boot, a meter value) without a fixed sleep."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

__all__ = ["eventually"]

T = TypeVar("T")


async def eventually(check: Callable[[], T | Awaitable[T]], timeout: float = 60.0, interval: float = 0.1,
                     what: str = "condition") -> T:
    """Poll ``check`` (sync or async) until it returns something truthy, and return that; fail after ``timeout``
    seconds. The timeout only bounds a failing test: a passing one returns as soon as the check holds."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        value: Any = check()
        if asyncio.iscoroutine(value):
            value = await value
        if value:
            return value
        assert asyncio.get_running_loop().time() < deadline, f"{what} not reached in {timeout:.0f} s"
        await asyncio.sleep(interval)
