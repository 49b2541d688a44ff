"""services.common.offload: small work stays on the event loop's thread, large work leaves it."""

import asyncio
import threading

import pytest

from services.common.offload import runner


def test_small_work_runs_on_the_event_loop_thread():
    async def run() -> tuple[int, int]:
        return threading.get_ident(), await runner(True)(threading.get_ident)

    loop_thread, worker = asyncio.run(run())
    assert worker == loop_thread


def test_large_work_runs_in_another_thread():
    async def run() -> tuple[int, int]:
        return threading.get_ident(), await runner(False)(threading.get_ident)

    loop_thread, worker = asyncio.run(run())
    assert worker != loop_thread


@pytest.mark.parametrize("small", [True, False])
def test_an_error_reaches_the_awaiting_caller(small):
    def fail(message: str) -> None:
        raise ValueError(message)

    with pytest.raises(ValueError, match="bad VCF"):
        asyncio.run(runner(small)(fail, "bad VCF"))
