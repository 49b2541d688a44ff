"""Crashes between writes: a process killed after its n-th write, and the redelivery that follows."""

import copy
from collections.abc import Awaitable, Callable
from typing import Any, Generic, Protocol, TypeVar

import pytest


class Crash(BaseException):
    """The process dies here. Not an Exception, so no handler's `except Exception` can catch it."""


class Outage(ConnectionError):
    """A dependency is away for a moment (what the adapters' transient errors stand for)."""


class Faults:
    """Counts the writes of a run and, when told to, crashes at the n-th one (before it happens)."""

    def __init__(self) -> None:
        self.writes: list[str] = []  # labels of the writes done, in order
        self.crash_at: int | None = None
        self.outage: set[str] = set()  # labels of writes that fail with an Outage (once each)

    def write(self, label: str) -> None:
        """Called by every fake before it writes; raises Crash at the planned point."""
        if label in self.outage:
            self.outage.discard(label)
            raise Outage(label)
        if self.crash_at is not None and len(self.writes) == self.crash_at:
            self.crash_at = None
            raise Crash(label)
        self.writes.append(label)


class World(Protocol):
    faults: Faults


W = TypeVar("W", bound=World)


class CrashRun(Generic[W]):
    """A handler run replayed with a crash before each of its writes, then redelivered."""

    def __init__(self, build: Callable[[], W], run: Callable[[W], Awaitable[Any]],
                 observe: Callable[[W], Any]) -> None:
        self.build, self.run, self.observe = build, run, observe

    async def clean(self) -> tuple[Any, list[str]]:
        """What a run without a crash leaves, and its writes."""
        world = self.build()
        await self.run(world)
        return copy.deepcopy(self.observe(world)), list(world.faults.writes)

    async def check_every_crash(self, invariant: Callable[[W], None] | None = None) -> int:
        """For each write n of a clean run: crash before write n, check `invariant` on what the crash left, then run
        again (the redelivered message) and require the world to end as after the clean run. Returns the number of
        crash points tried."""
        expected, writes = await self.clean()
        assert writes, "the clean run made no write"
        for n, label in enumerate(writes):
            world = self.build()
            world.faults.crash_at = n
            with pytest.raises(Crash):
                await self.run(world)
            if invariant is not None:
                invariant(world)
            await self.run(world)
            assert self.observe(world) == expected, f"a crash before write {n} ({label}) changed the outcome"
        return len(writes)
